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
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.benchmarks.model_stages import (
    stage_implicit,
    stage_model,
    stage_report_dense,
    stage_surprise,
)
from scripts.benchmarks.stage_io import building, peak_mb, run_vars

# --- the run's own stages ----------------------------------------------------------------------


# The calibration's workload: fixed sizes, so its seconds measure the machine, not the code.
CALIBRATION_MATRIX = 1_200  # a square float64 matrix multiplied by itself, 8 times
CALIBRATION_BLOCK = (300, 10_000)  # a users x songs score block, top-10 selected 100 times
CALIBRATION_ROWS = 20_000_000  # DuckDB rows grouped on two threads


def stage_calibrate() -> dict[str, Any]:
    """A fixed workload timed on the machine as it is now: dense BLAS and top-k selection on
    one thread (as a scoring worker), a DuckDB aggregation on two (as the dbt build). Runs
    taken on different days compare through it (bench/notes.md): the same code's stages
    move with it."""
    import duckdb
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((CALIBRATION_MATRIX, CALIBRATION_MATRIX))
    block = rng.standard_normal(CALIBRATION_BLOCK)
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        for _ in range(8):
            matrix @ matrix
        for _ in range(100):
            np.argpartition(block, 9, axis=1)
        numpy_s = time.perf_counter() - start
    with duckdb.connect() as con:
        con.execute("set threads = 2").fetchall()
        con.execute("set enable_progress_bar = false").fetchall()
        start = time.perf_counter()
        con.execute(
            "select count(distinct hash(i) % 5000011), sum(i % 7) from range(?) as t(i)",
            [CALIBRATION_ROWS],
        ).fetchall()
        duckdb_s = time.perf_counter() - start
    return {"seconds": numpy_s + duckdb_s, "numpy_s": numpy_s, "duckdb_s": duckdb_s}


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
    seconds = time.perf_counter() - start
    keep_dbt_artifacts(size_dir / "dbt" / ("build" if select is None else "score_marts"))
    return {"seconds": seconds, "summary": summary}


def keep_dbt_artifacts(dest: Path) -> None:
    """The build's manifest (compiled SQL) and run_results (node seconds): the dbt_bare stage
    replays the first, and the next build overwrites both in dbt_project/target."""
    from models_py.contract import DBT_PROJECT

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "run_results.json"):
        shutil.copyfile(DBT_PROJECT / "target" / name, dest / name)


def stage_dbt_bare(size_dir: Path) -> dict[str, Any]:
    """The dbt build's model SQL run bare (scripts/benchmarks/dbt_bare.py), on a copy of the
    warehouse it built."""
    from scripts.benchmarks.dbt_bare import measure_bare

    return measure_bare(building(size_dir), size_dir / "dbt" / "build", size_dir / "bare")


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
        result = con.execute(
            "select method, family, n_train, fit_seconds, score_seconds, serve_seconds, serving "
            "from scores.model_runs where not_fitted_reason is null order by method"
        )
        names = [column[0] for column in result.description]
        # Rows as dicts, not through pandas: it turns a NULL serving into NaN.
        models = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    return {"seconds": seconds, "models": models}


def stage_score_marts(size_dir: Path) -> dict[str, Any]:
    """The score marts, then what they say about the rankings: every method's warm MAP at
    eval_k on the test reels (used and lifted) and the run's default method."""
    from models_py.warehouse import file as warehouse

    out = stage_dbt_build(size_dir, select="source:scores+")
    # Read-write: dbt, in this process, may still hold the file (a read-only open is refused).
    with warehouse.connect(building(size_dir)) as con:
        maps = con.execute(
            "select method, family, relevance, value from main.model_metrics "
            "where scenario = 'warm' and metric = 'map' order by method, relevance"
        ).fetchall()
        chosen = con.execute(
            "select setting_value from main.run_settings where setting = 'default_method'"
        ).fetchone()[0]
    ranking: dict[str, dict[str, Any]] = {}
    for method, family, relevance, value in maps:
        ranking.setdefault(method, {"family": family})[f"map_{relevance}"] = value
    return out | {"ranking": ranking, "default_method": chosen}


def stage_publish(size_dir: Path) -> dict[str, Any]:
    from models_py.warehouse.publish import publish

    start = time.perf_counter()
    publish(building(size_dir), size_dir / "warehouse.duckdb", report=None, staged_report=None)
    return {"seconds": time.perf_counter() - start}


def stage_on_demand(size_dir: Path, per_method: int = 5) -> dict[str, Any]:
    """`reelrec recommend --method X` for a method not served: seconds of one influencer's
    list computed from X's fitted parts on the published warehouse, for the heaviest user and
    a few by hash, every method with parts (each call opens nothing new: one read-only
    connection, as the CLI holds for one command)."""
    import statistics

    from models_py.scoring.on_demand import on_demand_list
    from models_py.scoring.parts_store import stored_methods
    from models_py.warehouse import file as warehouse

    out: dict[str, Any] = {}
    with warehouse.open_read_only(size_dir / "warehouse.duckdb") as con:
        people = [
            r[0]
            for r in con.execute(
                "select influencer_id from reels group by 1 "
                "qualify row_number() over (order by count(*) desc, influencer_id) = 1 "
                "or row_number() over (order by hash(influencer_id), influencer_id) < ?",
                [per_method],
            ).fetchall()
        ]
        for method in stored_methods(con):
            seconds = []
            for influencer_id in people:
                start = time.perf_counter()
                try:
                    on_demand_list(con, method, influencer_id, 10)
                except NotImplementedError as error:  # kept without parts: said why
                    out[method] = {"no_parts": str(error)[:200]}
                    break
                seconds.append(time.perf_counter() - start)
            else:
                out[method] = {"max_s": max(seconds), "median_s": statistics.median(seconds)}
    return {"influencers": len(people), "methods": out}


def stage_e2e(size_dir: Path) -> dict[str, Any]:
    """The whole `reelrec run` in one process, as `make run` does it (into a side warehouse)."""
    from models_py import pipeline

    start = time.perf_counter()
    result = pipeline.run(
        size_dir / "raw", size_dir / "e2e.duckdb", generate_if_empty=False, echo=lambda _: None
    )
    return {"seconds": time.perf_counter() - start, "stages": result.stage_seconds}


# --- our models, one at a time -----------------------------------------------------------------


# --- entry point ----------------------------------------------------------------------------------


def dispatch(stage: str, size_dir: Path, rows: int) -> dict[str, Any]:
    kind, _, name = stage.partition(":")
    simple: dict[str, Callable[[], dict[str, Any]]] = {
        "calibrate": stage_calibrate,
        "generate": lambda: stage_generate(size_dir, rows),
        "load": lambda: stage_load(size_dir),
        "dbt_build": lambda: stage_dbt_build(size_dir),
        "dbt_bare": lambda: stage_dbt_bare(size_dir),
        "scoring": lambda: stage_scoring(size_dir),
        "score_marts": lambda: stage_score_marts(size_dir),
        "publish": lambda: stage_publish(size_dir),
        "on_demand": lambda: stage_on_demand(size_dir),
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
