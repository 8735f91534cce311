"""Which scoring job runs when: the worker pool, the jobs' order, and the default's choice
between the judge jobs that decide it and the serve jobs that follow it (score_all)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field

from threadpoolctl import threadpool_limits

from models_py import progress
from models_py.forking import fork_pool
from models_py.scoring.data import ScoringData
from models_py.scoring.frames import cold_influencer_frame
from models_py.scoring.jobs import judge_model, serve_model
from models_py.scoring.registry import NEW_INFLUENCER_COST, NEW_INFLUENCER_METHOD, ModelSpec
from models_py.scoring.writer import ScoreTables

# Set just before the worker processes fork, so they inherit the data instead of unpickling it
# (specs hold lambdas, which do not pickle).
_WORK: tuple[list[ModelSpec], ScoringData, int, str] | None = None


def _judge_in_worker(job: list[int]) -> list[tuple[int, ScoreTables, float, dict]]:
    """Judge each spec of `job` in turn (index one past the last spec: the new-influencer
    model); per spec its index, tables, seconds and tuned values."""
    specs, data, top_n, run_id = _WORK
    done = []
    # One BLAS thread per worker: two workers already use both cores.
    with threadpool_limits(limits=1):
        for index in job:
            out = ScoreTables.empty()
            if index < len(specs):
                seconds, tuned = judge_model(specs[index], data, top_n, run_id, out)
                done.append((index, out, seconds, tuned))
                continue
            start = time.perf_counter()
            frame, run = cold_influencer_frame(data, top_n, run_id)
            out.evaluation_recommendations.append(frame)
            out.model_runs.append(run)
            done.append((index, out, time.perf_counter() - start, {}))
    return done


def _serve_in_worker(
    job: list[int], tuned: list[dict], lists: list[bool]
) -> list[tuple[int, ScoreTables, float]]:
    specs, data, top_n, _ = _WORK
    done = []
    with threadpool_limits(limits=1):
        for index, values, listed in zip(job, tuned, lists, strict=True):
            out = ScoreTables.empty()
            done.append((index, out, serve_model(specs[index], data, top_n, values, listed, out)))
    return done


def jobs_of(specs: list[ModelSpec], indices: list[int]) -> list[list[int]]:
    """The specs at `indices` as jobs: one spec each, but specs naming the same `job` run in
    one, in spec order, so the fits they share are made once in that worker."""
    jobs: list[list[int]] = []
    shared: dict[str, list[int]] = {}
    for index in indices:
        key = specs[index].job if index < len(specs) else None
        if key is None:
            jobs.append([index])
        elif key in shared:
            shared[key].append(index)
        else:
            shared[key] = [index]
            jobs.append(shared[key])
    return jobs


def _longest_first(jobs: list[list[int]], cost: Callable[[int], float]) -> list[list[int]]:
    """LPT order: the short jobs fill in while the long ones run, so the workers end together."""
    return sorted(jobs, key=lambda job: -sum(cost(i) for i in job))


# A rough cost, in ModelSpec.cost units, of a serve job: a refit costs about what judging
# did (no tuning, but every reel), lists for every influencer ten times that.
REFIT_COST, LISTS_COST = 1.0, 10.0


@dataclass
class _Plan:
    """score_all's jobs not yet submitted, in the order they go: the servable models'
    judges first (longest first), then the other judges; once the former are all in, the
    choice adds the serve jobs and what is left runs longest first."""

    specs: list[ModelSpec]
    names: list[str]
    costs: list[float]
    # (cost, kind, spec indices); kind: "decide" (the judges the choice waits for), "judge"
    # (the others) or "serve"
    queue: list[tuple[float, str, list[int]]]
    awaited: set[int]  # judges the choice waits for: the servable models'
    tuned: dict[int, dict] = field(default_factory=dict)
    served: set[str] | None = None  # None until chosen

    @classmethod
    def of(cls, specs: list[ModelSpec]) -> _Plan:
        names = [spec.method for spec in specs] + [NEW_INFLUENCER_METHOD]
        costs = [spec.cost for spec in specs] + [NEW_INFLUENCER_COST]
        judges = jobs_of(specs, list(range(len(names))))
        deciding = [job for job in judges if any(specs[i].serve for i in job if i < len(specs))]
        rest = [job for job in judges if job not in deciding]
        queue = [
            (sum(costs[i] for i in job), kind, job)
            for kind, group in (("decide", deciding), ("judge", rest))
            for job in _longest_first(group, costs.__getitem__)
        ]
        return cls(specs, names, costs, queue, {i for job in deciding for i in job})

    @property
    def servable(self) -> list[int]:
        return [i for i, spec in enumerate(self.specs) if spec.serve]

    def choice_due(self) -> bool:
        return self.served is None and not self.awaited

    def limit(self, workers: int) -> int:
        """Jobs to keep submitted: one queued per busy worker, so a worker that finishes while
        the parent writes starts the next at once; but only as many as the workers while the
        choice waits and judges that decide nothing are next, so that none of them is queued
        ahead of the serve jobs the choice adds."""
        filler_next = bool(self.queue) and self.queue[0][1] == "judge"
        return workers if self.served is None and filler_next else 2 * workers

    def choose(self, served: set[str]) -> None:
        """Add the serve jobs, `served` (those listed for everyone) among them."""
        self.served = served & set(self.names)
        for job in jobs_of(self.specs, self.servable):
            cost = sum(
                self.costs[i] * (LISTS_COST if self.names[i] in self.served else REFIT_COST)
                for i in job
            )
            self.queue.append((cost, "serve", job))
        self.queue.sort(key=lambda item: -item[0])

    def pop(self) -> tuple[str, tuple] | None:
        """The next job as (kind, the worker function and its arguments); None if none."""
        if not self.queue:
            return None
        _, kind, job = self.queue.pop(0)
        if kind != "serve":
            return kind, (_judge_in_worker, job)
        listed = [self.names[i] in self.served for i in job]
        return kind, (_serve_in_worker, job, [self.tuned[i] for i in job], listed)


def score_all(
    specs: list[ModelSpec],
    data: ScoringData,
    top_n: int,
    run_id: str,
    echo: Callable[[str], None],
    sink: Callable[[ScoreTables], None],
    choose_served: Callable[[], set[str]] = set,
    workers: int = 2,
) -> tuple[set[str], dict[str, float]]:
    """Judge every model and the new-influencer model, and serve every servable one, `workers`
    at a time (_Plan's order). `choose_served` runs once the servable models' judge jobs'
    tables are handed over (the default is chosen among them) and names the methods to list
    for every influencer. Meanwhile the other judges (oracles, baselines, the report's
    methods, ALS), which need no choice, keep the workers busy, so none waits on it and the
    parent writes while both compute. Each model's tables go to `sink` (which writes or
    batches them) as its job finishes and are then dropped: holding every model's frames
    until the end makes the parent's peak the sum of all of them. Returns the methods served
    and the serve phase's seconds per method."""
    global _WORK
    _WORK = (specs, data, top_n, run_id)
    plan = _Plan.of(specs)
    serve_seconds: dict[str, float] = {}
    jobs = len(plan.names) + len(plan.servable)
    try:
        with fork_pool(workers) as pool, progress.bar("judged, served", jobs, "model") as bar:
            running: dict[Future, str] = {}

            def submit() -> None:  # the parent submits between writes
                while len(running) < plan.limit(workers) and (job := plan.pop()) is not None:
                    kind, (function, *args) = job
                    running[pool.submit(function, *args)] = kind

            submit()  # forks the workers: the choice below touches DuckDB, after the fork
            if plan.choice_due():  # nothing servable to judge
                plan.choose(choose_served())
                submit()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                while finished:
                    future = finished.pop()
                    kind, results = running.pop(future), future.result()
                    del future  # its result holds the tables: let them go once written
                    submit()  # before writing: the freed worker starts the next job
                    for index, out, seconds, *tuned in results:
                        sink(out)
                        del out
                        bar.update(1)
                        name = plan.names[index]
                        if kind != "serve":
                            plan.tuned[index] = tuned[0]
                            plan.awaited.discard(index)
                            echo(f"  {name:<18} {seconds:6.1f}s")
                            continue
                        serve_seconds[name] = seconds
                        what = "lists for everyone" if name in plan.served else "refit"
                        echo(f"  {name:<18} {seconds:6.1f}s ({what})")
                    del results
                    if plan.choice_due():
                        plan.choose(choose_served())
                        submit()
    finally:
        _WORK = None
    return plan.served or set(), serve_seconds
