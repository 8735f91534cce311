"""The Python stage: read the clean split from the warehouse, fit every model, write scores.

Two phases over the same worker pool. Judge: each model is tuned and fitted on the training
split, judged by dbt on the held-out reels (the same split and metric SQL as the popularity
methods) and, when servable, on a validation cut of the training reels, which chooses the
run's default method. Serve: each servable model is refitted once on all clean reels and its
fitted parts are written to the warehouse; only the default method and the `serve_methods`
var's get top-n lists for every influencer (`reelrec recommend --method` computes the others
on demand from the parts). Everything goes to the `scores` schema.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import as_completed
from functools import partial
from pathlib import Path

import duckdb
from threadpoolctl import threadpool_limits

from models_py import progress
from models_py.forking import fork_pool
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.item_knn import ItemKNN
from models_py.recommenders.song_features import top_k_neighbours
from models_py.scoring.data import (
    MIN_TRAINING_RATINGS,
    ScoringData,
    faithful_max_ratings,
    read_scoring_data,
    run_vars,
)
from models_py.scoring.fitting import _plain, fit_model, tune_shared_grids
from models_py.scoring.frames import (
    cold_influencer_frame,
    cold_song_frame,
    neighbour_frame,
    prediction_frame,
    recommendation_frame,
)
from models_py.scoring.parts_store import parts_tables
from models_py.scoring.registry import (
    MODELS,
    NEW_INFLUENCER_COST,
    NEW_INFLUENCER_METHOD,
    ModelSpec,
    not_fitted,
    oracle_specs,
    stacked_methods,
    truth_matches,
)
from models_py.scoring.selection import (
    mark_default,
    popularity_run,
    relevance_name,
)
from models_py.scoring.writer import ScoreTables, ScoreWriter, append_scores, clear_scores

SONG_NEIGHBOURS = 20  # song_neighbours lists per song, whatever K the models use


def judge_model(
    spec: ModelSpec, data: ScoringData, top_n: int, run_id: str, out: ScoreTables
) -> tuple[float, dict]:
    """Phase one: tune and fit on the training split, write what dbt judges it by (test
    predictions, evaluation lists) and its model_runs row; returns the seconds spent and the
    tuned values the serve phase refits with."""
    start = time.perf_counter()
    model, params, judged, search, tuned = fit_model(spec, data, data.train)
    fitted = time.perf_counter()
    # Usage only, or a model that only ranks (EASE, ALS): no Delta to judge, so no RMSE.
    if not data.implicit and model.predicts_ratings:
        out.test_predictions.append(prediction_frame(data, model, spec.method))
    unrated_train = data.unrated[data.unrated["split"] == "train"]
    evaluation = recommendation_frame(
        data, model, spec.method, top_n, unrated_train, users=data.evaluated_users()
    )
    out.evaluation_recommendations.append(evaluation.assign(scenario="warm"))
    if spec.cold_song:
        out.evaluation_recommendations.append(cold_song_frame(spec, data, top_n, params))
    scored = time.perf_counter()
    out.model_runs.append(
        {
            "run_id": run_id,
            "method": spec.method,
            "family": spec.family,
            "params": json.dumps(_plain(params), sort_keys=True, default=str),
            "data_fingerprint": run_id,
            "n_train": len(data.train.rating),
            "n_test": len(data.test.rating),
            "fit_seconds": fitted - start,
            "score_seconds": scored - fitted,
            "serve_seconds": 0.0,
            "trained_on": "usage" if data.implicit else "delta",
            "validation_map": judged.map if judged is not None else None,
            "validation_map_se": judged.se if judged is not None else None,
            "validation_relevance": relevance_name(data) if judged is not None else None,
            "rank_tuning": json.dumps(search, sort_keys=True, default=str) if search else None,
        }
    )
    return scored - start, tuned or {}


def serve_model(
    spec: ModelSpec, data: ScoringData, top_n: int, tuned: dict, lists: bool, out: ScoreTables
) -> float:
    """Phase two: refit with the tuned values on every clean reel and write its fitted parts,
    its song neighbours and, when `lists`, its top-n for every influencer; returns the seconds
    spent."""
    start = time.perf_counter()
    served = spec.make(data).set_params(**tuned).fit(data.everything)
    # What `reelrec recommend --method` computes one influencer's list from, served or not.
    for table, frames in parts_tables(spec.method, served).items():
        getattr(out, table).extend(frames)
    if lists:
        out.recommendations.append(
            recommendation_frame(data, served, spec.method, top_n, data.unrated, explain=True)
        )
    if isinstance(served, ItemKNN) and served.weighting is None:  # song_neighbours' item_knn
        out.song_neighbours.append(
            neighbour_frame(
                data,
                served.neighbors_[:, :SONG_NEIGHBOURS],
                served.similarities_[:, :SONG_NEIGHBOURS],
                spec.method,
            )
        )
    if type(served) is ContentRecommender:
        ids, sims = top_k_neighbours(served.features_, SONG_NEIGHBOURS)
        out.song_neighbours.append(neighbour_frame(data, ids, sims, spec.method))
    return time.perf_counter() - start


def not_fitted_run(spec: ModelSpec, reason: str, run_id: str) -> dict:
    """model_runs' row of a model the run did not fit, saying why."""
    return {
        "run_id": run_id,
        "method": spec.method,
        "family": spec.family,
        "data_fingerprint": run_id,
        "not_fitted_reason": reason,
    }


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
    """Judge every model and the new-influencer model, then serve every servable one, `workers`
    at a time, longest first. `choose_served` runs between the phases, once every judge job's
    tables are handed over, and names the methods to list for every influencer. Each model's
    tables go to `sink` (which writes or batches them) as its job finishes and are then
    dropped: holding every model's frames until the end makes the parent's peak the sum of
    all of them. Returns the methods served and the serve phase's seconds per method."""
    global _WORK
    _WORK = (specs, data, top_n, run_id)
    names = [spec.method for spec in specs] + [NEW_INFLUENCER_METHOD]
    costs = [spec.cost for spec in specs] + [NEW_INFLUENCER_COST]
    try:
        with fork_pool(workers) as pool:
            tuned: dict[int, dict] = {}
            judge_jobs = _longest_first(jobs_of(specs, list(range(len(names)))), costs.__getitem__)
            with progress.bar("models judged", total=len(names), unit="model") as bar:
                pending = [pool.submit(_judge_in_worker, job) for job in judge_jobs]
                for future in as_completed(pending):
                    for index, out, seconds, tuned[index] in future.result():
                        sink(out)
                        del out
                        bar.update(1)
                        echo(f"  {names[index]:<18} {seconds:6.1f}s")
                    del future  # its result holds the tables: let them go once written
            served = choose_served() & set(names)

            def serve_cost(i: int) -> float:  # lists for everyone dwarf a refit: first
                return costs[i] * (10 if names[i] in served else 1)

            servable = [i for i, spec in enumerate(specs) if spec.serve]
            serve_jobs = _longest_first(jobs_of(specs, servable), serve_cost)
            serve_seconds: dict[str, float] = {}
            with progress.bar("models served", total=len(servable), unit="model") as bar:
                pending = [
                    pool.submit(
                        _serve_in_worker,
                        job,
                        [tuned[i] for i in job],
                        [names[i] in served for i in job],
                    )
                    for job in serve_jobs
                ]
                for future in as_completed(pending):
                    for index, out, serve_seconds[names[index]] in future.result():
                        sink(out)
                        del out
                        bar.update(1)
                        what = "lists for everyone" if names[index] in served else "refit"
                        echo(f"  {names[index]:<18} {serve_seconds[names[index]]:6.1f}s ({what})")
                    del future
    finally:
        _WORK = None
    return served, serve_seconds


def run_scoring(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    top_n: int,
    truth_dir: Path | None,
    workers: int = 2,
    echo: Callable[[str], None] = print,
) -> None:
    """Fit, evaluate and serve every model the data allows on the built warehouse; write the
    scores tables, with a model_runs row saying why for each model not fitted."""
    data = read_scoring_data(con)
    # No list is longer than the catalogue: the lists' arrays are sized by top_n.
    top_n = min(top_n, len(data.song_ids))
    kind = "reels used (no Delta: usage only)" if data.implicit else "ratings"
    echo(
        f"  {len(data.train.rating):,} training and {len(data.test.rating):,} test {kind}, "
        f"{len(data.influencer_ids):,} influencers x {len(data.song_ids):,} songs"
    )
    clear_scores(con)
    if len(data.train.rating) < MIN_TRAINING_RATINGS:
        # Even the usage-based models' validation cut would be (nearly) empty.
        count = f"{len(data.train.rating):,} training reels, fewer than {MIN_TRAINING_RATINGS}"
        reason = f"too few clean reels ({count})"
        echo(
            f"  ! too few clean reels to fit the models ({count}): only the popularity methods rank"
        )
        skipped = [(spec, reason) for spec in MODELS]
        append_scores(con, ScoreTables.empty(model_runs=not_fitted_runs(skipped, run_id)))
        choose_default_method(con, data, run_id, echo)
        return
    loaded = {r[0] for r in con.execute("select source_file from raw.source_files").fetchall()}
    with_truth = truth_dir is not None and truth_matches(truth_dir, loaded)
    candidates = list(MODELS) + (oracle_specs(truth_dir, data) if with_truth else [])
    specs, skipped = not_fitted(candidates, data, faithful_max_ratings(con))
    for reason, methods in _by_reason(skipped).items():
        echo(f"  ! not fitted — {', '.join(methods)}: {reason}")
    append_scores(con, ScoreTables.empty(model_runs=not_fitted_runs(skipped, run_id)))
    requested = set(run_vars(con).serve_method_names())

    # Searches several specs share (er_biased_mf's grid) made once, before the workers fork.
    tune_shared_grids(specs, data, data.train)
    with ScoreWriter(con) as writer:

        def choose_served() -> set[str]:  # it reads model_runs: written at once
            return {choose_default_method(con, data, run_id, echo, writer.write), *requested}

        served, serve_seconds = score_all(
            specs, data, top_n, run_id, echo, writer.append, choose_served, workers
        )
    record_serving(con, served, serve_seconds)
    on_demand = sorted(set(serve_seconds) - served)
    echo(
        f"  served to every influencer: {', '.join(sorted(served & set(serve_seconds))) or '-'}"
        f" (and the popularity methods); on demand: {', '.join(on_demand) or '-'}"
    )


def record_serving(
    con: duckdb.DuckDBPyConnection, served: set[str], serve_seconds: dict[str, float]
) -> None:
    """model_runs.serving and serve_seconds of every servable model: 'served' (lists for
    every influencer in recommendations) or 'on_demand' (computed from its fitted parts)."""
    rows = [
        [seconds, "served" if method in served else "on_demand", method]
        for method, seconds in serve_seconds.items()
    ]
    if rows:
        con.executemany(
            "update scores.model_runs set serve_seconds = ?, serving = ? where method = ?", rows
        )


def choose_default_method(
    con: duckdb.DuckDBPyConnection,
    data: ScoringData,
    run_id: str,
    echo: Callable[[str], None],
    write: Callable[[ScoreTables], None] | None = None,
) -> str:
    """Judge `count` popularity on the validation cut beside the models, and mark the best
    (selection.py) as the run's default method in model_runs. `write`: how scores tables are
    written (by default append_scores); what it was given must be in model_runs after."""
    runs = ScoreTables.empty(model_runs=[popularity_run(data, run_id)])
    (write or partial(append_scores, con))(runs)
    chosen, judged = mark_default(con, stacked_methods())
    field = ", ".join(f"{method} {score.map:.4f}" for method, score in judged[:4])
    echo(
        f"  default method: {chosen} (validation MAP@{data.eval_k} "
        f"'{relevance_name(data)}', best first: {field})"
    )
    return chosen


def not_fitted_runs(skipped: list[tuple[ModelSpec, str]], run_id: str) -> list[dict]:
    return [not_fitted_run(spec, reason, run_id) for spec, reason in skipped]


def _by_reason(skipped: list[tuple[ModelSpec, str]]) -> dict[str, list[str]]:
    """{reason: [methods]}, in the order the reasons first come."""
    out: dict[str, list[str]] = {}
    for spec, reason in skipped:
        out.setdefault(reason, []).append(spec.method)
    return out
