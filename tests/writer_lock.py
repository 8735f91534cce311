"""A DuckDB file held open for writing by another process, as a BI tool or a script would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLD = (
    "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
    "sys.stdin.readline()"
)


@contextmanager
def held_for_writing(path: Path) -> Iterator[Path]:
    """`path` open read-write in a child process until the block ends."""
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], **pipes)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield path
    finally:
        holder.communicate("done\n", timeout=60)
