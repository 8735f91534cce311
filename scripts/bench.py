"""Benchmarks: every stage and the peer libraries at 100k, 1M and 10M rows.

    python scripts/bench.py --sizes 100k,1m,10m --out bench/

Needs the bench extra (`pip install -e '.[dev,bench]'`, done by `make bench`). Generated data goes
to bench/data/ (gitignored); results to bench/results.md, results.csv and results.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.benchmarks.runner import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
