"""`reelrec run --engine spark`: the dbt project built on Apache Spark."""

from __future__ import annotations

import argparse
from pathlib import Path

from models_py import pipeline
from models_py.ingest.columns import parse_column_map


def run_on_spark(args: argparse.Namespace, input_dir: Path, overrides: dict) -> int:
    """`reelrec run --engine spark`: build on Spark and say where the tables are and which
    models were left out."""
    result = pipeline.run_spark(
        input_dir=input_dir,
        run_dir=Path(args.spark_dir),
        master=args.spark_master,
        column_map=parse_column_map(args.map),
        dbt_vars=overrides,
        generate_if_empty=args.input is None,
        follow_links=args.follow_links,
    )
    print(f"\nSpark tables (parquet): {result.warehouse_dir}/<schema>.db/<table>/")
    print("  marts in main.db, cleaning in intermediate.db; no HTML report on Spark")
    print(f"Left out (no Spark version): {', '.join(result.left_out)}")
    print(f"Done in {sum(result.stage_seconds.values()):.1f}s")
    return 0


def add_spark_options(run: argparse.ArgumentParser) -> None:
    """`reelrec run`'s engine switch and the Spark run's master and folder."""
    run.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where dbt builds: duckdb (one file, --warehouse) or spark (parquet tables under "
        "--spark-dir; needs the spark extra and Java 17)",
    )
    run.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master (default local[2]; e.g. spark://host:7077)",
    )
    run.add_argument(
        "--spark-dir",
        default=str(pipeline.DEFAULT_SPARK_DIR),
        metavar="PATH",
        help="with --engine spark: the run's folder (spark-warehouse/ parquet tables, derby/ "
        "metastore); replaced by each run",
    )
