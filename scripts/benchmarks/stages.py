"""One benchmark stage per process: ``python -m scripts.benchmarks.stages STAGE --dir D``.

A size's folder ``D`` holds ``raw/`` and ``truth/`` (generated), ``warehouse.duckdb.building``
while the run's stages build it, then ``warehouse.duckdb``. The model and peer stages read the
published warehouse: the same clean reels and the same train/test split (``evaluation_splits``)
for ours and for every peer. Each stage writes a JSON dict of what it measured to ``F``; phase
timings are wall seconds inside the process (imports excluded), ``peak_mb_*`` the process's
peak RSS so far.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from models_py.recommenders.data import Ratings

TOP_K = 10
# Peers that build a dense items x items matrix are not started beyond this (they would swap the
# shared machine or be killed); the result says so with the size they would need.
DENSE_LIMIT_BYTES = 16 * 2**30


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Phases:
    """Wall seconds and peak RSS after each named phase of a stage."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.out[f"{name}_s"] = time.perf_counter() - start
        self.out[f"peak_mb_{name}"] = peak_mb()


# --- data -------------------------------------------------------------------------------------


def building(size_dir: Path) -> Path:
    from models_py.warehouse import file as warehouse

    return warehouse.building_path(size_dir / "warehouse.duckdb")


def run_vars(size_dir: Path) -> dict[str, object]:
    return json.loads((size_dir / "run.json").read_text())


def built(size_dir: Path) -> Path:
    """The published warehouse, or the one being built when the run stopped after dbt build
    (e.g. scoring timed out): the split is there, the tuned parameters are not."""
    published = size_dir / "warehouse.duckdb"
    return published if published.exists() else building(size_dir)


def scoring_data(size_dir: Path) -> Any:
    from models_py.scoring.data import read_scoring_data
    from models_py.warehouse import file as warehouse

    with warehouse.connect(built(size_dir), read_only=True) as con:
        return read_scoring_data(con)


def tuned_params(size_dir: Path, method: str) -> tuple[dict[str, Any], float | None]:
    """The run's winning parameters for ``method`` and its fit seconds including tuning
    ({} and None when the run did not get to score models: the defaults are used)."""
    from models_py.warehouse import file as warehouse

    with warehouse.connect(built(size_dir), read_only=True) as con:
        rows = con.execute(
            "select params, fit_seconds from scores.model_runs where method = ?", [method]
        ).fetchall()
    if not rows:
        return {}, None
    return json.loads(rows[0][0]), float(rows[0][1])


def faithful_limit(size_dir: Path) -> int:
    """The run's faithful_max_ratings (the warehouse's run_settings)."""
    from models_py.scoring.data import faithful_max_ratings
    from models_py.warehouse import file as warehouse

    with warehouse.connect(built(size_dir), read_only=True) as con:
        return faithful_max_ratings(con)


def map_at_k(rec_ids: np.ndarray, test: Ratings, k: int = TOP_K) -> tuple[float, int]:
    """MAP@k of top-k lists (users x k item codes, -1 padding; row u = user u) against the
    held-out items of each user, AP normalised by min(k, |relevant|) as in macros/metrics.sql.
    Users with no held-out item are left out; returns (MAP, users evaluated)."""
    from models_py.recommenders.tuning import average_precision_at_k

    n_users = rec_ids.shape[0]
    n_rel = np.bincount(test.user, minlength=n_users)
    keys = np.sort(test.user.astype(np.int64) * test.n_items + test.item)
    ap = average_precision_at_k(rec_ids[:, :k], np.arange(n_users), keys, test.n_items, n_rel)
    evaluated = n_rel > 0
    return (float(ap[evaluated].mean()) if evaluated.any() else 0.0), int(evaluated.sum())


def rmse(truth: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(truth) - np.asarray(pred)) ** 2)))


# --- the run's own stages ----------------------------------------------------------------------


def stage_generate(size_dir: Path, rows: int) -> dict[str, Any]:
    """The default xlsx dataset at 100k rows (what `make run` reads), ``--scale`` parquet else.
    An existing dataset of the same size and format is reused."""
    from models_py.synth.generate import generate, scale_sizes

    fmt = "xlsx" if rows == 100_000 else "parquet"
    params_file = size_dir / "truth" / "params.json"
    if params_file.exists():
        params = json.loads(params_file.read_text())
        if params.get("format") == fmt and params["sizes"]["n_rows"] == rows:
            return {"reused": True, "format": fmt, "rows": rows}
    n_inf, n_celeb, n_songs = scale_sizes(rows)
    start = time.perf_counter()
    generate(
        size_dir,
        seed=42,
        n_influencers=n_inf,
        n_celebrities=n_celeb,
        n_songs=n_songs,
        n_rows=rows,
        fmt=fmt,
    )
    return {"reused": False, "format": fmt, "rows": rows, "seconds": time.perf_counter() - start}


def stage_load(size_dir: Path) -> dict[str, Any]:
    from models_py.ingest.load import load_folder
    from models_py.pipeline import run_fingerprint
    from models_py.scoring.writer import create_score_tables
    from models_py.warehouse import file as warehouse

    build = building(size_dir)
    warehouse.create_database(build)
    start = time.perf_counter()
    with warehouse.connect(build) as con:
        report = load_folder(con, size_dir / "raw", {})
        create_score_tables(con)  # as the run does: the dbt build stage reads them as sources
        seconds = time.perf_counter() - start
        run_id = run_fingerprint(con, {})
    (size_dir / "run.json").write_text(json.dumps({"run_id": run_id}))
    return {"rows": report.rows, "seconds": seconds, "rows_per_s": report.rows / seconds}


def stage_dbt_build(size_dir: Path, select: str | None = None) -> dict[str, Any]:
    from models_py.warehouse.dbt_runner import run_dbt

    start = time.perf_counter()
    summary = run_dbt("build", building(size_dir), run_vars(size_dir), select=select, quiet=True)
    return {"seconds": time.perf_counter() - start, "summary": summary}


def stage_scoring(size_dir: Path) -> dict[str, Any]:
    from models_py.contract import project_var
    from models_py.scoring.runner import run_scoring
    from models_py.warehouse import file as warehouse

    start = time.perf_counter()
    with warehouse.connect(building(size_dir)) as con:
        run_scoring(
            con,
            run_id=str(run_vars(size_dir)["run_id"]),
            top_n=int(project_var("top_n")),
            truth_dir=size_dir / "truth",
            workers=2,
            echo=lambda line: print(line, flush=True),
        )
        seconds = time.perf_counter() - start
        models = con.execute(
            "select method, family, n_train, fit_seconds, score_seconds, serve_seconds "
            "from scores.model_runs order by method"
        ).df()
    return {"seconds": seconds, "models": models.to_dict("records")}


def stage_publish(size_dir: Path) -> dict[str, Any]:
    from models_py.warehouse import file as warehouse

    start = time.perf_counter()
    warehouse.publish(building(size_dir), size_dir / "warehouse.duckdb")
    return {"seconds": time.perf_counter() - start}


def stage_e2e(size_dir: Path) -> dict[str, Any]:
    """The whole `reelrec run` in one process, as `make run` does it (into a side warehouse)."""
    from models_py import pipeline

    start = time.perf_counter()
    result = pipeline.run(
        size_dir / "raw", size_dir / "e2e.duckdb", generate_if_empty=False, echo=lambda _: None
    )
    return {"seconds": time.perf_counter() - start, "stages": result.stage_seconds}


# --- our models, one at a time -----------------------------------------------------------------


def stage_model(size_dir: Path, method: str) -> dict[str, Any]:
    """Fit one of scoring.MODELS on the training split with the run's tuned parameters, then
    recommend top-10 for every influencer and evaluate (test RMSE, MAP@10 on held-out reels)."""
    from threadpoolctl import threadpool_limits

    from models_py.scoring.registry import MODELS, within_size_limits
    from models_py.scoring.runner import fit_model

    spec = {s.method: s for s in MODELS}[method]
    data = scoring_data(size_dir)
    limit = faithful_limit(size_dir)
    if not within_size_limits([spec], len(data.train), limit)[0]:
        return {
            "skipped": f"{len(data.train):,} training ratings, over faithful_max_ratings "
            f"({limit:,}): the run does not fit the report's own methods at this size"
        }
    params, fit_with_tuning = tuned_params(size_dir, method)
    ph = Phases()
    users = np.arange(data.train.n_users)
    with threadpool_limits(limits=1):  # as in the run: one BLAS thread per model
        if not params and (spec.grid or spec.rank_grid):
            # The run did not get to score (e.g. a bench of these stages alone): tune as the
            # run would, untimed, so the timed fit is of the model the run would ship.
            with ph.phase("tune"):
                params = fit_model(spec, data, data.train)[1]
        with ph.phase("fit"):
            model = spec.make(data).set_params(**params).fit(data.train)
        with ph.phase("recommend"):
            ids, _ = model.recommend(users, TOP_K, exclude_used=True)
        with ph.phase("evaluate"):
            pred = model.predict(data.test.user, data.test.item)
            score, evaluated = map_at_k(ids, data.test)
    return ph.out | {
        "tuned": bool(params),
        "rmse": rmse(data.test.rating, pred),
        "map10": score,
        "users_evaluated": evaluated,
        "fit_with_tuning_s": fit_with_tuning,
        "n_train": len(data.train),
        "n_users": data.train.n_users,
        "n_items": data.train.n_items,
    }


# --- peers ------------------------------------------------------------------------------------


def _surprise_sets(data: Any) -> tuple[Any, list[tuple[int, int, float]]]:
    import pandas as pd
    from surprise import Dataset, Reader

    train = data.train
    frame = pd.DataFrame({"user": train.user, "item": train.item, "rating": train.rating})
    reader = Reader(rating_scale=(float(train.rating.min()), float(train.rating.max())))
    trainset = Dataset.load_from_df(frame, reader).build_full_trainset()
    test = data.test
    testset = list(zip(test.user.tolist(), test.item.tolist(), test.rating.tolist(), strict=True))
    return trainset, testset


def stage_surprise(size_dir: Path, which: str) -> dict[str, Any]:
    """scikit-surprise with its defaults; KNNs item-based (songs), like our item models."""
    data = scoring_data(size_dir)
    n_items = data.train.n_items
    if which != "svd" and n_items * n_items * 8 * 2 > DENSE_LIMIT_BYTES:
        need = n_items * n_items * 8 * 2 / 2**30
        return {"skipped": f"items x items similarity and support matrices need {need:.0f} GB"}
    import surprise

    algo = {
        "svd": lambda: surprise.SVD(random_state=0),
        "knnwithmeans": lambda: surprise.KNNWithMeans(
            sim_options={"name": "cosine", "user_based": False}, verbose=False
        ),
        "knnbaseline": lambda: surprise.KNNBaseline(
            sim_options={"name": "pearson_baseline", "user_based": False},
            verbose=False,
        ),
    }[which]()
    ph = Phases()
    with ph.phase("prepare"):
        trainset, testset = _surprise_sets(data)
    with ph.phase("fit"):
        algo.fit(trainset)
    with ph.phase("evaluate"):
        predictions = algo.test(testset)
    est = np.array([p.est for p in predictions])
    return ph.out | {"rmse": rmse(data.test.rating, est), "n_train": len(data.train)}


def stage_implicit(size_dir: Path, which: str) -> dict[str, Any]:
    """implicit on the training reels as "used" (1.0): fit, top-10 for every influencer with
    the used songs filtered, MAP@10 against the held-out reels. One thread, like our models."""
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    data = scoring_data(size_dir)
    train = data.train
    user_items = sp.csr_matrix(
        (np.ones(len(train), dtype=np.float32), (train.user, train.item)),
        shape=(train.n_users, train.n_items),
    )
    if which == "cosine":
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=20, num_threads=1)
    else:
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=64, iterations=15, num_threads=1, random_state=0, calculate_training_loss=False
        )
    ph = Phases()
    users = np.arange(train.n_users)
    with threadpool_limits(limits=1):
        with ph.phase("fit"):
            model.fit(user_items, show_progress=False)
        with ph.phase("recommend"):
            ids, _ = model.recommend(users, user_items, N=TOP_K, filter_already_liked_items=True)
        with ph.phase("evaluate"):
            ids = np.asarray(ids)
            score, evaluated = map_at_k(ids, data.test)
    return ph.out | {"map10": score, "users_evaluated": evaluated, "n_train": len(train)}


def stage_report_dense(size_dir: Path) -> dict[str, Any]:
    """The report's approach as written (recommenders.report_dense), or why it cannot run."""
    import pandas as pd

    from scripts.benchmarks.report_dense import peak_bytes, run_report_approach

    data = scoring_data(size_dir)
    need = peak_bytes(data.train.n_users, data.train.n_items)
    if need > DENSE_LIMIT_BYTES:
        return {"skipped": f"dense matrices need at least {need / 2**30:.0f} GB", "need_gb": need}

    def frame(r: Ratings) -> pd.DataFrame:
        return pd.DataFrame({"user": r.user, "item": r.item, "rating": r.rating})

    times: dict[str, float] = {}
    scores = run_report_approach(
        frame(data.train), frame(data.test), data.train.n_users, data.train.n_items, timer=times
    )
    return {f"{k}_s": v for k, v in times.items()} | scores | {"need_gb": need / 2**30}


# --- entry point ----------------------------------------------------------------------------------


def dispatch(stage: str, size_dir: Path, rows: int) -> dict[str, Any]:
    kind, _, name = stage.partition(":")
    simple: dict[str, Callable[[], dict[str, Any]]] = {
        "generate": lambda: stage_generate(size_dir, rows),
        "load": lambda: stage_load(size_dir),
        "dbt_build": lambda: stage_dbt_build(size_dir),
        "scoring": lambda: stage_scoring(size_dir),
        "score_marts": lambda: stage_dbt_build(size_dir, select="source:scores+"),
        "publish": lambda: stage_publish(size_dir),
        "e2e": lambda: stage_e2e(size_dir),
        "report_dense": lambda: stage_report_dense(size_dir),
    }
    if stage in simple:
        return simple[stage]()
    if kind == "model":
        return stage_model(size_dir, name)
    if kind == "surprise":
        return stage_surprise(size_dir, name)
    if kind == "implicit":
        return stage_implicit(size_dir, name)
    raise ValueError(f"unknown stage {stage!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one benchmark stage.")
    parser.add_argument("stage")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    args = parser.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    out = dispatch(args.stage, args.dir, args.rows)
    if profiler is not None:
        profiler.stop()
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        args.profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    out["peak_mb"] = peak_mb()
    args.result.write_text(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
