"""Ingestion rate: rows/s from the default xlsx files, read and loaded into DuckDB.

Two figures, each the median of several runs so a noisy neighbour on the VM does not decide
them: "read" is the files parsed into Arrow text tables (two reader processes), "load" is the
whole loader into a fresh on-disk warehouse (read + insert into raw + the file log).
Results go to bench/ingest.md. Usage: python scripts/bench_ingest.py [--input data/raw]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from models_py.ingest.load import discover_files, load_folder, read_files  # noqa: E402
from models_py.warehouse import file as warehouse  # noqa: E402


def measure_read(input_dir: Path) -> tuple[int, float]:
    start = time.perf_counter()
    sheets = list(read_files(discover_files(input_dir), input_dir, {}))
    return sum(s.table.num_rows for s in sheets), time.perf_counter() - start


def measure_load(input_dir: Path) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        warehouse.create_database(path)
        start = time.perf_counter()
        with warehouse.connect(path) as con:
            report = load_folder(con, input_dir, {})
        return report.rows, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=str(REPO / "data" / "raw"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "bench" / "ingest.md"))
    args = parser.parse_args()
    input_dir = Path(args.input)
    files = discover_files(input_dir)
    table_rows = []
    for label, measure in (("read (xlsx → Arrow)", measure_read), ("load (→ raw)", measure_load)):
        runs = [measure(input_dir) for _ in range(args.repeat)]
        rows = runs[0][0]
        seconds = sorted(s for _, s in runs)
        median = statistics.median(seconds)
        table_rows.append(
            f"| {label} | {rows:,} | {len(runs)} | {seconds[0]:.2f} | {median:.2f} "
            f"| {seconds[-1]:.2f} | {rows / median:,.0f} |"
        )
    lines = [
        "# Ingestion benchmark",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores, Python {platform.python_version()}",
        f"- Input: {', '.join(f.name for f in files)}",
        f"- Command: `python scripts/bench_ingest.py --repeat {args.repeat}`",
        "",
        "| phase | rows | runs | min s | median s | max s | median rows/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *table_rows,
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
