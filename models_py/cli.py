"""`reelrec` command line: run the pipeline, generate data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models_py.columns import parse_column_map
from models_py.errors import ReelRecError


def _parse_vars(items: list[str]) -> dict[str, object]:
    """`--var max_er=10` pairs; numbers stay numbers so dbt compares them as numbers."""
    parsed: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ReelRecError(f"--var: '{item}' is not of the form name=value")
        try:
            parsed[key.strip()] = int(value)
        except ValueError:
            try:
                parsed[key.strip()] = float(value)
            except ValueError:
                parsed[key.strip()] = value
    return parsed


def cmd_run(args: argparse.Namespace) -> int:
    from models_py import pipeline, summary

    input_dir = Path(args.input) if args.input else pipeline.DEFAULT_INPUT
    result = pipeline.run(
        input_dir=input_dir,
        warehouse_path=Path(args.warehouse),
        column_map=parse_column_map(args.map),
        dbt_vars=_parse_vars(args.var),
        generate_if_empty=args.input is None,
    )
    total = sum(result.stage_seconds.values())
    print()
    print(summary.render(result.warehouse))
    print(f"Done in {total:.1f}s")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from models_py.generate_data import main as generate_main

    return generate_main(args.generate_args)


def build_parser() -> argparse.ArgumentParser:
    from models_py.pipeline import DEFAULT_WAREHOUSE

    parser = argparse.ArgumentParser(
        prog="reelrec", description="Song recommendations for Instagram reels, in DuckDB."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="load input files, clean them in dbt and build the warehouse",
        description="Load every .xlsx/.csv/.parquet in the input folder, clean and model it "
        "with dbt, and publish the warehouse. With no --input, uses data/raw and generates "
        "the default dataset there if it is empty.",
    )
    run.add_argument("--input", help="folder of input files (default: data/raw)")
    run.add_argument(
        "--map",
        help="column mapping for other headers, e.g. Song=track_id,URL=profile",
    )
    run.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="DuckDB file to publish")
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="dbt var override, e.g. --var max_er=10 (repeatable)",
    )
    run.set_defaults(func=cmd_run)

    gen = sub.add_parser(
        "generate",
        help="write a synthetic dataset with a planted truth",
        description="Pass-through to scripts/generate_data.py; see `reelrec generate -- --help`.",
    )
    gen.add_argument("generate_args", nargs=argparse.REMAINDER)
    gen.set_defaults(func=cmd_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ReelRecError as exc:
        print(f"reelrec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reelrec: interrupted; the previous warehouse is untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
