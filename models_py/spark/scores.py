"""The `scores` tables on Spark: writer.TABLES' columns and types, as parquet tables.

The score marts read them as they read DuckDB's, so the shapes come from the one declaration
(scoring.writer.TABLES) and are only translated to Spark's type names here.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from models_py.scoring.writer import SCHEMA, TABLES

# DuckDB's type names in TABLES and Spark's for the same values.
SPARK_TYPES = {
    "varchar": "string",
    "integer": "int",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "double[]": "array<double>",
}


def spark_columns(table: str) -> list[tuple[str, str]]:
    """(name, Spark type) of each column of `table`, in TABLES' order."""
    columns = []
    for column in TABLES[table].split(","):
        name, duck_type = column.split()
        columns.append((name, SPARK_TYPES[duck_type]))
    return columns


def spark_ddl(table: str) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in spark_columns(table))


def create_score_tables(spark: SparkSession, schema: str = SCHEMA) -> None:
    """Every scores table, empty; an existing one is emptied (its rows are a previous run's)."""
    spark.sql(f"create database if not exists {schema}")
    for name in TABLES:
        spark.sql(f"drop table if exists {schema}.{name}")
        spark.sql(f"create table {schema}.{name} ({spark_ddl(name)}) using parquet")


def append_scores(frame: DataFrame, table: str, schema: str = SCHEMA) -> None:
    """Add `frame`'s rows to `table`: its columns (missing ones NULL) cast to the table's
    types, in the table's order (insertInto matches by position)."""
    present = set(frame.columns)
    ordered = [
        (F.col(name) if name in present else F.lit(None)).cast(kind).alias(name)
        for name, kind in spark_columns(table)
    ]
    frame.select(*ordered).write.insertInto(f"{schema}.{table}")


def rows_frame(spark: SparkSession, rows: list[dict], table: str) -> DataFrame:
    """`rows` (dicts by column name; missing keys NULL) as a frame of `table`'s schema."""
    names = [name for name, _ in spark_columns(table)]
    return spark.createDataFrame(
        [tuple(row.get(n) for n in names) for row in rows], spark_ddl(table)
    )
