"""The dbt project on Spark equals it on DuckDB (`make test-spark`; needs the spark extra and
Java). One `reelrec run --engine spark` of the small generated dataset (the default data takes
about 10 minutes on Spark here, most of it per-model overhead, not rows), read back through
Spark and compared with a DuckDB build of the same files, table by table."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import SMALL_VARS

pytest.importorskip("pyspark", reason="the spark extra is not installed")
psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.spark

# Marts that have no Python input, and so must be the same on both engines.
COMPARED = (
    "popularity_rankings",
    "popularity_recommendations",
    "quarantined_reels",
    "source_file_audit",
    "evaluation_splits",
)


def java_children() -> set[int]:
    """PIDs of the JVMs this test process started (Spark's driver runs as our child)."""
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if p.is_running() and p.name() == "java"
    }


@pytest.fixture(scope="module")
def no_jvm_left() -> Iterator[None]:
    """Every JVM the tests start is gone when they end; one left over is killed by its PID and
    fails the module."""
    before = java_children()
    yield
    left = java_children() - before
    for pid in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
    assert not left, f"JVMs left running: {sorted(left)}"


@pytest.fixture(scope="module")
def spark_run(small_data: Path, tmp_path_factory: pytest.TempPathFactory, no_jvm_left) -> tuple:
    from models_py.cli.commands import main

    run_dir = tmp_path_factory.mktemp("spark-run")
    overrides = [arg for k, v in SMALL_VARS.items() for arg in ("--var", f"{k}={v}")]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            ["run", "--engine", "spark", "--input", str(small_data / "raw")]
            + ["--spark-dir", str(run_dir), *overrides]
        )
    assert code == 0, printed.getvalue()
    return run_dir, printed.getvalue()


@pytest.fixture(scope="module")
def duckdb_warehouse(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same files built on DuckDB; no Python models, which the compared marts never read."""
    from models_py import pipeline

    path = tmp_path_factory.mktemp("duckdb") / "warehouse.duckdb"
    pipeline.run(
        small_data / "raw",
        path,
        dbt_vars=dict(SMALL_VARS),
        generate_if_empty=False,
        score_models=False,
        report=False,
        echo=lambda _: None,
    )
    return path


@pytest.fixture(scope="module")
def spark_tables(spark_run: tuple) -> dict[str, pa.Table]:
    """The compared marts as Spark reads them from the run's metastore and parquet files."""
    from models_py.spark.session import start_session, stop_session

    run = start_session(spark_run[0])
    try:
        tables = {name: run.spark.table(f"main.{name}").toArrow() for name in COMPARED}
        metrics = run.spark.table("main.model_metrics").where("family = 'popularity'")
        tables["model_metrics"] = metrics.toArrow()
    finally:
        stop_session(run)
    return tables


def duckdb_table(warehouse: Path, name: str) -> pa.Table:
    import duckdb

    where = " where family = 'popularity'" if name == "model_metrics" else ""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(f"select * from main.{name}{where}").to_arrow_table()


def sorted_rows(table: pa.Table) -> list[tuple]:
    """The rows as tuples, sorted (NULL first, floats to 9 decimals for the order only)."""

    def key(row: tuple) -> tuple:
        return tuple(
            (0, 0) if v is None else (1, round(v, 9) if isinstance(v, float) else v) for v in row
        )

    return sorted((tuple(row.values()) for row in table.to_pylist()), key=key)


def same_value(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return bool(np.isclose(left, right, rtol=0, atol=1e-9, equal_nan=True))
    return left == right


def assert_same_rows(spark: pa.Table, duck: pa.Table) -> None:
    """Same columns, same rows; doubles to 1e-9 (a rounded 9th decimal may differ by one where
    the engines add the same numbers in another order)."""
    assert spark.column_names == duck.column_names
    assert spark.num_rows == duck.num_rows
    for left, right in zip(sorted_rows(spark), sorted_rows(duck), strict=True):
        assert all(map(same_value, left, right)), (left, right)


@pytest.mark.parametrize("name", [*COMPARED, "model_metrics"])
def test_spark_mart_equals_duckdb(
    name: str, spark_tables: dict[str, pa.Table], duckdb_warehouse: Path
) -> None:
    duck = duckdb_table(duckdb_warehouse, name)
    assert duck.num_rows > 0, f"{name} is empty: the comparison would prove nothing"
    assert_same_rows(spark_tables[name], duck)


def test_spark_tables_are_parquet_under_the_run_folder(spark_run: tuple) -> None:
    run_dir, printed = spark_run
    parts = list(
        (run_dir / "spark-warehouse" / "main.db" / "popularity_recommendations").glob("*.parquet")
    )
    assert parts, "popularity_recommendations has no parquet files under the run folder"
    assert "Left out (no Spark version):" in printed


def test_spark_models_reach_the_score_marts(spark_run: tuple) -> None:
    """The MLlib models' scores, written between the two dbt builds, are in the marts the
    same SQL builds from them; the run names what it left out."""
    from models_py.spark.scoring import SPARK_MODELS, without_spark_version
    from models_py.spark.session import start_session, stop_session

    run_dir, printed = spark_run
    run = start_session(run_dir)
    try:
        metrics = run.spark.table("main.model_metrics").toPandas()
        runs = run.spark.table("main.model_runs").toPandas().set_index("method")
    finally:
        stop_session(run)
    fitted = {spec.method for spec in SPARK_MODELS}
    scored = metrics[metrics["method"].isin(fitted)]
    assert set(scored["method"]) == fitted
    assert set(scored.loc[scored["method"] == "biased_mf", "metric"]) >= {"rmse", "map"}
    assert "rmse" not in set(scored.loc[scored["method"] == "als", "metric"])
    left_out = [method for method, _ in without_spark_version()]
    assert (runs.loc[left_out, "not_fitted_reason"] == "no Spark version").all()
    assert all(method in printed for method in left_out)
