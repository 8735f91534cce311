"""`reelrec` command line: run the pipeline, generate data."""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from pathlib import Path

from models_py.dbt_vars import MAX_LIST_LENGTH
from models_py.errors import ReelRecError
from models_py.ingest.columns import parse_column_map


def _run_vars(args: argparse.Namespace) -> dict[str, object]:
    """`--var name=value` and `--top-n` as dbt var overrides, checked with the defaults against
    the declared ranges (models_py/dbt_vars.py) before anything runs."""
    from models_py import dbt_vars, pipeline

    top_n = [f"top_n={args.top_n}"] if args.top_n is not None else []
    try:
        overrides = dbt_vars.parse_assignments([*args.var, *top_n])
    except dbt_vars.VarError as exc:
        raise ReelRecError(f"dbt vars: {exc}") from None
    pipeline.checked_vars(overrides)
    return overrides


def _list_length(text: str) -> int:
    """-n, --top-n: a whole number from 1 to the ceiling, so no list is sized by a typo."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIST_LENGTH:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a whole number from 1 to {MAX_LIST_LENGTH}"
        )
    return value


def _follower_count(text: str) -> int:
    """`--followers` read as ingestion reads the Followers column (the same dbt macro)."""
    from models_py.ingest.values import parse_count

    count = parse_count(text)
    if count is None or count < 0:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a follower count (e.g. 6200, 6,200, 6.2k, 50m)"
        )
    return count


def cmd_run(args: argparse.Namespace) -> int:
    from models_py import pipeline
    from models_py.cli import summary

    overrides = _run_vars(args)
    input_dir = Path(args.input) if args.input else pipeline.DEFAULT_INPUT
    if args.engine == "spark":
        from models_py.cli.spark import run_on_spark

        return run_on_spark(args, input_dir, overrides)
    result = pipeline.run(
        input_dir=input_dir,
        warehouse_path=Path(args.warehouse),
        column_map=parse_column_map(args.map),
        dbt_vars=overrides,
        generate_if_empty=args.input is None,
        report=not args.no_report,
        follow_links=args.follow_links,
    )
    total = sum(result.stage_seconds.values())
    print()
    print(summary.render(result.warehouse))
    from models_py.cli.lookup import default_method, example_influencer, recommendations

    handle = example_influencer(result.warehouse)
    chosen, why = default_method(result.warehouse)
    print(f"\nDefault method: {chosen} — {why}.")
    # A small input may lack a method (songs below min_user_count): then the next that has one.
    for method in dict.fromkeys((chosen, "count", "trending")) if handle else ():
        try:
            (_, _, name), rows = recommendations(result.warehouse, handle, method, 5)
        except ReelRecError:
            continue
        if rows:
            print(f"\nExample: top picks for {name or handle} (reelrec recommend {handle}):")
            _print_rows(("method", "rank", "title", "artist", "score", "why"), rows)
            break
    if result.report:
        print(f"\nReport: {result.report}")
    print(f"Done in {total:.1f}s")
    return 0


def _print_rows(headers: tuple[str, ...], rows: list[tuple]) -> None:
    text = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in text:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def cmd_recommend(args: argparse.Namespace) -> int:
    from models_py.cli.lookup import default_method, recommendations

    (_, handle, name), rows = recommendations(
        Path(args.warehouse), args.influencer, args.method, args.n
    )
    headers = ("method", "rank", "title", "artist", "score", "why")
    if args.output:
        return _export(Path(args.output), headers, rows, args.force)
    chosen, why = default_method(Path(args.warehouse))
    print(f"Recommendations for {name or handle} (@{handle}):")
    if args.method is None or args.method == chosen:
        print(f"Default method first: {chosen} — {why}.")
    _print_rows(headers, rows)
    return 0


def _export(path: Path, headers: tuple[str, ...], rows: list[tuple], force: bool) -> int:
    from models_py.cli.export import write_table

    print(f"Wrote {write_table(path, headers, rows, force):,} rows to {path}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from models_py.cli.lookup import new_influencer_recommendations

    picks = new_influencer_recommendations(
        Path(args.warehouse), args.handle, args.bio, args.followers, args.n
    )
    print(f"Recommendations for new influencer @{picks.handle} ({picks.tier}), from {picks.basis}:")
    _print_rows(("rank", "title", "artist", "score", "why"), picks.rows)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from models_py.cli.lookup import similar_songs

    (song_id, title, artist), rows = similar_songs(Path(args.warehouse), args.song, args.n, args.by)
    headers = ("rank", "title", "artist", "similarity")
    if args.output:
        return _export(Path(args.output), headers, rows, args.force)
    print(f"Songs similar to {title} by {artist} ({song_id}), by {args.by}:")
    _print_rows(headers, rows)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from models_py.pipeline import report_path_for
    from models_py.report.page import write_report

    source = Path(args.warehouse)
    output = Path(args.output) if args.output else report_path_for(source.resolve())
    print(f"Report: {write_report(source, output)}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from models_py.synth.generate import main as generate_main

    passed = args.generate_args
    # `reelrec generate -- --scale N`: the "--" only shields the options from our parser.
    return generate_main(passed[1:] if passed[:1] == ["--"] else passed)


def _add_list_length(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-n",
        type=_list_length,
        default=10,
        help=f"{what} (default 10, at most {MAX_LIST_LENGTH})",
    )


OUTPUT_HELP = "write the rows to a .csv or .xlsx file (by suffix) instead of printing them"
FORCE_HELP = "replace an earlier export at --output (other files are never replaced)"


def _add_reading(parser: argparse.ArgumentParser, export: bool = False) -> None:
    """The warehouse a look-up reads and, for list commands, where to export the rows."""
    from models_py.pipeline import DEFAULT_WAREHOUSE

    parser.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="DuckDB file to read")
    if export:
        parser.add_argument("--output", metavar="PATH", help=OUTPUT_HELP)
        parser.add_argument("--force", action="store_true", help=FORCE_HELP)


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
        action="append",
        default=[],
        metavar="COLUMN=YOURS",
        help="your header for a ReelRec column, e.g. --map Song=track_id --map URL=profile "
        "(repeatable; or a comma list: Song=track_id,URL=profile)",
    )
    run.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="DuckDB file to publish")
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="dbt var override, e.g. --var max_er=10 (repeatable)",
    )
    run.add_argument(
        "--top-n",
        type=_list_length,
        metavar="N",
        help="songs recommended per influencer and method (the top_n var; at most "
        f"{MAX_LIST_LENGTH})",
    )
    run.add_argument(
        "--no-report",
        action="store_true",
        help="skip the HTML report (saves a few seconds; an older report beside the warehouse "
        "is removed, as it would describe the previous build)",
    )
    run.add_argument(
        "--follow-links",
        action="store_true",
        help="read input files that are symlinks to files outside the input folder",
    )
    from models_py.cli.spark import add_spark_options

    add_spark_options(run)
    run.set_defaults(func=cmd_run)

    rec = sub.add_parser(
        "recommend",
        help="an influencer's recommended songs",
        description="Print an influencer's recommendations from the warehouse, by method.",
    )
    rec.add_argument("influencer", help="profile URL or handle (e.g. desi_trends)")
    rec.add_argument("--method", help="one method only (e.g. count, er_biased_mf)")
    _add_list_length(rec, "songs per method")
    _add_reading(rec, export=True)
    rec.set_defaults(func=cmd_recommend)

    new = sub.add_parser(
        "new",
        help="songs for a new influencer (no reels yet), from handle, bio and followers",
        description="Recommend songs for an influencer who is not in the warehouse yet: what "
        "influencers of the same follower tier with similar bios used, with tier popularity "
        "as the prior (and the fallback when no bio is similar).",
    )
    new.add_argument("handle", help="the new influencer's handle (shown; must be new)")
    new.add_argument("--bio", required=True, help='profile bio text ("" if none)')
    new.add_argument(
        "--followers",
        type=_follower_count,
        required=True,
        help="follower count as files write it: 6200, 6,200, 6.2k, 50m (sets the tier)",
    )
    _add_list_length(new, "how many songs")
    _add_reading(new)
    new.set_defaults(func=cmd_new)

    sim = sub.add_parser(
        "similar",
        help="songs similar to a song",
        description="Print a song's nearest songs from the warehouse: by who used them "
        "(item_knn, default) or by metadata (content: artist, decade, title and album words).",
    )
    sim.add_argument("song", help="song id (SO…) or exact title")
    _add_list_length(sim, "how many")
    sim.add_argument(
        "--by", choices=("item_knn", "content"), default="item_knn", help="neighbour method"
    )
    _add_reading(sim, export=True)
    sim.set_defaults(func=cmd_similar)

    rep = sub.add_parser(
        "report",
        help="write the HTML report of a warehouse",
        description="Render the self-contained HTML report (charts embedded, opens offline) "
        "from a built warehouse. `reelrec run` writes it too, beside the warehouse.",
    )
    _add_reading(rep)
    rep.add_argument(
        "--output", help="HTML file to write (default: <warehouse name>-report.html beside it)"
    )
    rep.set_defaults(func=cmd_report)

    gen = sub.add_parser(
        "generate",
        help="write a synthetic dataset with a planted truth",
        description="Pass-through to scripts/generate_data.py; see `reelrec generate -- --help`.",
    )
    gen.add_argument("generate_args", nargs=argparse.REMAINDER)
    gen.set_defaults(func=cmd_generate)
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse, letting `generate` pass its options on to the generator's own parser."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "generate":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if unknown:  # argparse's REMAINDER does not take `generate --scale N`'s options
        args.generate_args = [*unknown, *args.generate_args]
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        return args.func(args)
    except ReelRecError as exc:
        print(f"reelrec: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"reelrec: interrupted{_warehouse_state(args, exc)}", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: keep the details, show one line
        from models_py.cli.error_log import write_error_log

        warehouse = getattr(args, "warehouse", None)
        log = write_error_log(traceback.format_exc(), Path(warehouse) if warehouse else None)
        print(
            f"reelrec: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            f"(traceback in {log})" + _warehouse_state(args, exc),
            file=sys.stderr,
        )
        return 1


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _one_line(message: str) -> str:
    """A message as one plain line, whatever a library put in it (dbt colours its errors)."""
    plain = ANSI_ESCAPE.sub("", message)
    return " ".join(line.strip() for line in plain.splitlines() if line.strip())


def _warehouse_state(args: argparse.Namespace, exc: BaseException) -> str:
    """What a failure left of the warehouse, said only when known: the other commands only
    read it, and a run replaces it only once publishing has begun."""
    if args.command != "run":
        return ""
    from models_py.warehouse.publish import PUBLISH_BEGAN

    if PUBLISH_BEGAN in getattr(exc, "__notes__", ()):
        return f"; publishing had begun, so {args.warehouse} may be the new build"
    return "; the previous warehouse is untouched"


if __name__ == "__main__":
    sys.exit(main())
