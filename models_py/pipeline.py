"""The main job: (generate) → load → dbt build → publish the warehouse → summary."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from models_py import dbt_vars as var_schema
from models_py import progress
from models_py.contract import project_vars
from models_py.errors import ReelRecError
from models_py.ingest.load import SUPPORTED, LoadReport, load_folder
from models_py.scoring.writer import create_score_tables
from models_py.warehouse import file as warehouse
from models_py.warehouse import paths
from models_py.warehouse.dbt_runner import run_dbt
from models_py.warehouse.publish import finish_interrupted, publish

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "data"
DEFAULT_INPUT = DEFAULT_DATA / "raw"
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse.duckdb"
# `--engine spark`: the run's Spark warehouse (parquet tables) and Derby metastore.
DEFAULT_SPARK_DIR = REPO_ROOT / "spark-run"
# What the loader writes and dbt's sources read, copied into Spark as they are.
RAW_TABLES = ("raw.reels", "raw.source_files")
# dbt selector of everything built on the Python models' score tables.
SCORE_MARTS = "source:scores+"
# dbt's unit tests check the SQL on fixed inputs, not the data: CI runs them (make test,
# tests/test_dbt_unit_tests.py), and a run on the user's data skips them, as dbt advises.
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


@dataclass
class RunResult:
    warehouse: Path
    load: LoadReport
    report: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)


def report_path_for(warehouse_path: Path) -> Path:
    """The report lives beside its warehouse: warehouse.duckdb → warehouse-report.html."""
    return warehouse_path.with_name(warehouse_path.stem + "-report.html")


@dataclass
class SparkRunResult:
    """A Spark build: where its parquet tables live and the Python models it left out."""

    run_dir: Path
    warehouse_dir: Path
    load: LoadReport
    left_out: list[str]
    stage_seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def stage(name: str, timings: dict[str, float], echo: Callable[[str], None]) -> Iterator[None]:
    echo(f"▶ {name} …")
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    echo(f"  {name} done in {timings[name]:.1f}s")


def staged_report_path(warehouse_path: Path) -> Path:
    return report_path_for(warehouse_path).with_suffix(".html.building")


def _remove_report_leftovers(warehouse_path: Path) -> None:
    """A run killed while rendering leaves its half-made report behind; nobody else owns it."""
    building = staged_report_path(warehouse_path)
    for leftover in (building, building.with_name(building.name + ".partial")):
        leftover.unlink(missing_ok=True)
    paths.remove_partials(building)


def check_paths(warehouse_path: Path) -> tuple[Path, Path]:
    """The warehouse and report a run will publish, symlinks resolved; anything that would
    fail at publish or replace another kind of file is refused before any work."""
    target = warehouse.check_target(warehouse_path)
    report = report_path_for(target)
    paths.refuse_unless(report, "the report path", paths.HTML)
    return target, report


def checked_vars(overrides: dict[str, object]) -> var_schema.DbtVars:
    """The run's vars (defaults and overrides) within their declared ranges, or a clear error."""
    try:
        return var_schema.check(overrides, project_vars())
    except var_schema.VarError as exc:
        raise ReelRecError(f"dbt vars: {exc}") from None


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
    report: bool = True,
    echo: Callable[[str], None] = progress.echo,
    follow_links: bool = False,
) -> RunResult:
    """Build a fresh warehouse beside the live one and swap it in only when all succeeded.

    The HTML report is rendered from the finished build and published with it as one step
    (`models_py.warehouse.publish`), so the report on disk describes the warehouse on disk;
    with `report=False` an older report is removed in that step. A symlinked warehouse is
    published where it points.
    """
    settings = checked_vars(dbt_vars or {})  # before anything runs
    target, report_file = check_paths(warehouse_path)
    timings: dict[str, float] = {}
    if generate_if_empty and not has_input_files(input_dir):
        from models_py.synth.generate import generate

        with stage(f"generate default dataset into {input_dir.parent}", timings, echo):
            generate(input_dir.parent)
    build = warehouse.building_path(target)
    staged_report: Path | None = None
    # Under the lock, a leftover build can only be a dead run's: create_database clears it.
    lock = warehouse.lock_build(target)
    try:
        # A run killed mid-publish: its files are complete, finish putting them in place.
        finished = finish_interrupted(target)
        if finished:
            echo(f"  ! {finished}")
        _remove_report_leftovers(target)
        warehouse.create_database(build)
        with stage(f"load {input_dir}", timings, echo), warehouse.connect(build) as con:
            loaded = load_folder(con, input_dir, column_map or {}, follow_links)
            # Empty until scoring fills them, so the first dbt build finds its scores sources.
            create_score_tables(con)
            dbt_vars = {**(dbt_vars or {}), "run_id": run_fingerprint(con, dbt_vars or {})}
        for warning in loaded.warnings:
            echo(f"  ! {warning}")
        echo(f"  {loaded.rows:,} rows from {loaded.files} file(s)")
        with stage("dbt build (clean, audit, popularity, marts, tests)", timings, echo):
            # What reads the models' scores is built once, after scoring (not twice).
            later = ["--exclude", SCORE_MARTS] if score_models else []
            echo(
                "  "
                + run_dbt(
                    "build",
                    build,
                    dbt_vars,
                    quiet=True,
                    threads=threads,
                    command_args=[*later, *NO_UNIT_TESTS],
                )
            )
        if score_models:
            with stage("fit and score models", timings, echo), warehouse.connect(build) as con:
                from models_py.scoring.runner import run_scoring

                run_scoring(
                    con,
                    run_id=str(dbt_vars["run_id"]),
                    top_n=settings.top_n,
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
                        select=SCORE_MARTS,
                        quiet=True,
                        threads=threads,
                        command_args=NO_UNIT_TESTS,
                    )
                )
        if report:
            from models_py.report.page import render

            with stage("render the HTML report", timings, echo):
                staged_report = paths.write_text_replacing(
                    staged_report_path(target),
                    render(build, source_name=target.name, read_only=False),
                )
        publish(build, target, report_file, staged_report)
    except BaseException:
        warehouse.discard(build)
        if staged_report is not None:
            staged_report.unlink(missing_ok=True)
        raise
    finally:
        lock.close()
    return RunResult(warehouse_path, loaded, report_file if report else None, timings)


def _generate_if_empty(input_dir: Path, timings: dict[str, float], echo: Callable) -> None:
    if not has_input_files(input_dir):
        from models_py.synth.generate import generate

        with stage(f"generate default dataset into {input_dir.parent}", timings, echo):
            generate(input_dir.parent)


def run_spark(
    input_dir: Path = DEFAULT_INPUT,
    run_dir: Path = DEFAULT_SPARK_DIR,
    master: str | None = None,
    column_map: dict[str, str] | None = None,
    dbt_vars: dict[str, object] | None = None,
    generate_if_empty: bool = True,
    threads: int | None = None,
    echo: Callable[[str], None] = progress.echo,
    follow_links: bool = False,
) -> SparkRunResult:
    """Load the input into a Spark warehouse under `run_dir` and `dbt build` it there.

    The same loader as the DuckDB engine reads the files (so both start from the same raw
    rows); its tables and the empty scores tables go to Spark as parquet tables, then the
    whole dbt project builds on Spark. Models with no Spark version are left out and named.
    The previous Spark build in `run_dir` is replaced; no HTML report is made (it reads DuckDB).
    """
    from models_py.scoring.writer import SCHEMA, TABLES
    from models_py.spark import session as spark_session
    from models_py.spark.tables import copy_to_spark

    settings = checked_vars(dbt_vars or {})  # before anything runs
    timings: dict[str, float] = {}
    if generate_if_empty:
        _generate_if_empty(input_dir, timings, echo)
    for previous in ("spark-warehouse", "derby", "scratch", "checkpoints"):
        shutil.rmtree(run_dir / previous, ignore_errors=True)
    with stage(f"start Spark ({master or spark_session.DEFAULT_MASTER})", timings, echo):
        spark = spark_session.start_session(run_dir, master or spark_session.DEFAULT_MASTER)
    try:
        scratch = run_dir / "scratch"
        with stage(f"load {input_dir} into Spark", timings, echo):
            scratch.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(str(scratch / "load.duckdb")) as con:
                loaded = load_folder(con, input_dir, column_map or {}, follow_links)
                create_score_tables(con)
                dbt_vars = {**(dbt_vars or {}), "run_id": run_fingerprint(con, dbt_vars or {})}
                score_tables = [f"{SCHEMA}.{name}" for name in TABLES]
                copy_to_spark(con, spark.spark, [*RAW_TABLES, *score_tables], scratch)
            shutil.rmtree(scratch)
        for warning in loaded.warnings:
            echo(f"  ! {warning}")
        echo(f"  {loaded.rows:,} rows from {loaded.files} file(s)")

        def build_on_spark(**options: Any) -> None:
            echo("  " + run_dbt("build", run_dir, dbt_vars, quiet=True, threads=threads,
                                target="spark", **options))  # fmt: skip

        with stage("dbt build on Spark (clean, audit, popularity, marts, tests)", timings, echo):
            # What reads the models' scores is built once, after scoring (as on DuckDB).
            build_on_spark(command_args=["--exclude", SCORE_MARTS])
        with stage("fit and score the models with a Spark version (MLlib ALS)", timings, echo):
            from models_py.spark.scoring import run_spark_scoring

            left_out = run_spark_scoring(
                spark.spark, str(dbt_vars["run_id"]), settings.top_n, echo=echo
            )
        with stage("dbt build of the score marts on Spark", timings, echo):
            build_on_spark(select=SCORE_MARTS)
    finally:
        spark_session.stop_session(spark)
    return SparkRunResult(run_dir, spark.warehouse_dir, loaded, left_out, timings)
