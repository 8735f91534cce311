"""DuckDB tables copied into Spark as parquet managed tables.

The input is read by the same loader as the DuckDB engine (readers → Arrow → a scratch DuckDB
file), so both engines start from the same raw rows. Each table then goes to Spark as a parquet
file that DuckDB writes and Spark reads in parallel: no rows pass through Python or the JVM
gateway, however large the input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def copy_to_spark(
    con: duckdb.DuckDBPyConnection,
    spark: SparkSession,
    tables: list[str],
    scratch_dir: Path,
) -> None:
    """Create (or replace) each `schema.table` of `tables` in Spark with the rows DuckDB holds
    under the same name. The parquet files in `scratch_dir` are removed once Spark has its
    copy."""
    scratch_dir.mkdir(parents=True, exist_ok=True)
    for qualified in tables:
        schema, _ = qualified.split(".")
        exported = scratch_dir / f"{qualified}.parquet"
        con.execute(f"copy {qualified} to '{exported}' (format parquet)").fetchall()
        spark.sql(f"create database if not exists {schema}")
        frame = spark.read.parquet(str(exported))
        frame.write.mode("overwrite").format("parquet").saveAsTable(qualified)
        exported.unlink()


def table_location(spark: SparkSession, qualified: str) -> str:
    """Where a managed table's parquet files live (a file: or cluster URI)."""
    rows = spark.sql(f"describe table extended {qualified}").collect()
    return next(str(row.data_type) for row in rows if row.col_name == "Location")
