"""The main job: (generate) → load → dbt build → publish the warehouse → summary."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb

from models_py import warehouse
from models_py.dbt_runner import project_var, run_dbt
from models_py.ingest import SUPPORTED, LoadReport, load_folder

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "data"
DEFAULT_INPUT = DEFAULT_DATA / "raw"
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse.duckdb"


@dataclass
class RunResult:
    warehouse: Path
    load: LoadReport
    stage_seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def stage(name: str, timings: dict[str, float], echo: Callable[[str], None]) -> Iterator[None]:
    echo(f"▶ {name} …")
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    echo(f"  {name} done in {timings[name]:.1f}s")


def has_input_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() in SUPPORTED for p in folder.iterdir())


def run_fingerprint(con: duckdb.DuckDBPyConnection, dbt_vars: dict[str, object]) -> str:
    """Same input files and settings, same id: runs are comparable and reproducible."""
    files = con.execute(
        "select source_file, coalesce(source_sheet, ''), file_sha256 from raw.source_files "
        "order by all"
    ).fetchall()
    payload = json.dumps({"files": files, "vars": dbt_vars}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def run(
    input_dir: Path = DEFAULT_INPUT,
    warehouse_path: Path = DEFAULT_WAREHOUSE,
    column_map: dict[str, str] | None = None,
    dbt_vars: dict[str, object] | None = None,
    generate_if_empty: bool = True,
    score_models: bool = True,
    threads: int | None = None,
    echo: Callable[[str], None] = print,
) -> RunResult:
    """Build a fresh warehouse beside the live one and swap it in only when all succeeded."""
    timings: dict[str, float] = {}
    if generate_if_empty and not has_input_files(input_dir):
        from models_py.generate_data import generate

        with stage(f"generate default dataset into {input_dir.parent}", timings, echo):
            generate(input_dir.parent)
    build = warehouse.building_path(warehouse_path)
    # Under the lock, a leftover build can only be a dead run's: create_database clears it.
    lock = warehouse.lock_build(warehouse_path)
    try:
        warehouse.create_database(build)
        with stage(f"load {input_dir}", timings, echo), warehouse.connect(build) as con:
            report = load_folder(con, input_dir, column_map or {})
            dbt_vars = {**(dbt_vars or {}), "run_id": run_fingerprint(con, dbt_vars or {})}
        for warning in report.warnings:
            echo(f"  ! {warning}")
        echo(f"  {report.rows:,} rows from {report.files} file(s)")
        with stage("dbt build (clean, audit, popularity, marts, tests)", timings, echo):
            echo("  " + run_dbt("build", build, dbt_vars, quiet=True, threads=threads))
        if score_models:
            with stage("fit and score models", timings, echo), warehouse.connect(build) as con:
                from models_py.scoring import run_scoring

                run_scoring(
                    con,
                    run_id=str(dbt_vars["run_id"]),
                    top_n=int(dbt_vars.get("top_n", project_var("top_n"))),
                    truth_dir=input_dir.parent / "truth",
                    workers=threads or 2,
                    echo=echo,
                )
            with stage("dbt build of the score marts and their tests", timings, echo):
                echo(
                    "  "
                    + run_dbt(
                        "build",
                        build,
                        dbt_vars,
                        select="source:scores+",
                        quiet=True,
                        threads=threads,
                    )
                )
        warehouse.publish(build, warehouse_path)
    except BaseException:
        warehouse.discard(build)
        raise
    finally:
        lock.close()
    return RunResult(warehouse_path, report, timings)
