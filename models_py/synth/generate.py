"""Synthetic ReelRec source data with a planted, recorded truth: ``generate`` and the CLI.

Mirrors the internship report's ``data1.xlsx``/``data2.xlsx``: one row per (influencer, song used
in a reel) with the report's columns. Ratings (``Delta``) come from a known biased
matrix-factorisation model, so recommenders can be scored against an oracle, and the raw cells
carry realistic dirt at known rates, so the cleaning pipeline can be checked row by row against
``truth/rows.parquet``. Models must never read ``truth/``.

Everything is vectorised numpy/pyarrow (no Python loop over rows except the unavoidable
openpyxl ``append`` for the small xlsx default), so memory grows with the rows written, never
with influencers x songs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from models_py.synth.settings import (
    PART_ROWS,
    DirtRates,
    ModelParams,
    scale_sizes,
    validate_sizes,
)
from models_py.synth.simulate import simulate
from models_py.synth.writers import prepare_dirs, write_entities, write_outputs

FORMATS = ("xlsx", "parquet")
DEFAULT_SIZES = {"n_influencers": 10_000, "n_celebrities": 2_000, "n_songs": 10_000}


def generate(
    out_dir: Path,
    *,
    seed: int = 42,
    n_influencers: int = 10_000,
    n_celebrities: int = 2_000,
    n_songs: int = 10_000,
    n_rows: int | None = None,
    fmt: str = "xlsx",
    rates: DirtRates | None = None,
    model: ModelParams | None = None,
    part_rows: int = PART_ROWS,
) -> dict[str, Any]:
    """Write ``<out_dir>/raw`` (source files) and ``<out_dir>/truth``; return params.json's dict.

    ``n_rows`` is the total number of written source rows including the duplicate copies
    (default: ~8.3 per influencer, i.e. 100,000 for the report-sized default).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (xlsx or parquet)")
    if part_rows < 1:
        raise ValueError("part_rows must be positive")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    validate_sizes(n_influencers, n_celebrities, n_songs, n_rows, rates or DirtRates())
    raw_dir, truth_dir = prepare_dirs(Path(out_dir))  # only now delete stale outputs
    planted = simulate(
        seed=seed,
        n_influencers=n_influencers,
        n_celebrities=n_celebrities,
        n_songs=n_songs,
        n_rows=n_rows,
        rates=rates,
        model=model,
    )
    files = write_outputs(planted, raw_dir, truth_dir, fmt, seed, part_rows)
    write_entities(planted, truth_dir)
    params = planted.params | {"format": fmt, "files": files}
    (truth_dir / "params.json").write_text(json.dumps(params, indent=2, ensure_ascii=False) + "\n")
    return params


def _summary(params: dict[str, Any], out: Path, seconds: float) -> str:
    sizes, expected, delta = params["sizes"], params["expected"], params["delta_stats"]
    rules = ", ".join(f"{r} {c:,}" for r, c in expected["quarantined_by_rule"].items())
    top = "/".join(str(c) for c in params["top_song_user_counts"][:3])
    return (
        f"Wrote {sizes['n_rows']:,} source rows ({sizes['n_duplicate_rows']:,} duplicate copies) "
        f"in {len(params['files'])} {params['format']} file(s) to {out / 'raw'} for "
        f"{sizes['n_influencers_total']:,} influencers ({sizes['tiers']['celebrity']:,} "
        f"celebrities, {sizes['tiers']['nano']:,} nano) and {sizes['n_songs']:,} songs in "
        f"{seconds:.1f} s; truth in {out / 'truth'}. Expected after cleaning: "
        f"{expected['clean_rows']:,} clean and {expected['quarantined_rows']:,} quarantined rows "
        f"({rules}). Delta mean {delta['mean']:.2f}, sd {delta['sd']:.2f}, range "
        f"[{delta['min']:.2f}, {delta['max']:.2f}], {delta['share_gt_4']:.2%} above 4; "
        f"{params['censored_rows']:,} rows censored at Curr_ER 0; top songs used by {top} "
        f"influencers; artist+decade explain "
        f"{params['explained_variance_share']['realised']:.0%} of song-factor variance."
    )


def _count(text: str) -> int:
    """A non-negative whole number; "100_000" and "100,000" are accepted."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="generate_data",
        description="Generate ReelRec synthetic source data (raw/) and its planted truth (truth/).",
    )
    p.add_argument("--out", type=Path, default=Path("data"), help="output folder (default: data)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--influencers", type=_count, help="nano/micro influencers (10,000)")
    p.add_argument("--celebrities", type=_count, help="celebrities >= 80k followers (2,000)")
    p.add_argument("--songs", type=_count, help="songs (10,000)")
    p.add_argument("--rows", type=_count, help="written rows incl. duplicates (~8.3/infl.)")
    p.add_argument(
        "--scale",
        type=_count,
        metavar="ROWS",
        help="parquet output of ROWS rows with matching sizes (1e5: 12k infl./10k songs; "
        "1e6: 120k/50k; 1e7: 1M/100k)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage/help
        return int(exc.code or 0)
    sizes, rows, fmt = dict(DEFAULT_SIZES), args.rows, "xlsx"
    if args.scale is not None:
        if args.rows is not None and args.rows != args.scale:
            print("error: give either --scale or --rows, not different values", file=sys.stderr)
            return 2
        sizes = dict(zip(DEFAULT_SIZES, scale_sizes(args.scale), strict=True))
        rows, fmt = args.scale, "parquet"
    for key, given in (
        ("n_influencers", args.influencers),
        ("n_celebrities", args.celebrities),
        ("n_songs", args.songs),
    ):
        if given is not None:
            sizes[key] = given
    start = time.perf_counter()
    try:
        params = generate(args.out, seed=args.seed, n_rows=rows, fmt=fmt, **sizes)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_summary(params, args.out, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
