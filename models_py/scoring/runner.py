"""The Python stage: read the clean split from the warehouse, fit every model, write scores.

Two kinds of job over the same worker pool. Judge: each model is tuned and fitted on the
training split, judged by dbt on the held-out reels (the same split and metric SQL as the
popularity methods) and, when servable, on a validation cut of the training reels, which
chooses the run's default method among the servable models. Serve: each servable model is
refitted once on all clean reels and its fitted parts are written to the warehouse; only the
default method and the `serve_methods` var's get top-n lists for every influencer (`reelrec
recommend --method` computes the others on demand from the parts). Serve jobs start once the
servable models are judged, beside the other judges (score_all). Everything goes to the
`scores` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

from models_py.scoring.data import (
    MIN_TRAINING_RATINGS,
    ScoringData,
    faithful_max_ratings,
    read_scoring_data,
    run_vars,
)
from models_py.scoring.fitting import tune_shared_grids
from models_py.scoring.registry import (
    MODELS,
    ModelSpec,
    not_fitted,
    oracle_specs,
    stacked_methods,
    truth_matches,
)
from models_py.scoring.schedule import score_all
from models_py.scoring.selection import (
    mark_default,
    popularity_run,
    relevance_name,
)
from models_py.scoring.writer import ScoreTables, ScoreWriter, append_scores, clear_scores


def not_fitted_run(spec: ModelSpec, reason: str, run_id: str) -> dict:
    """model_runs' row of a model the run did not fit, saying why."""
    return {
        "run_id": run_id,
        "method": spec.method,
        "family": spec.family,
        "data_fingerprint": run_id,
        "not_fitted_reason": reason,
    }


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
