"""The warehouse file: built beside the live one, then swapped in atomically.

Readers (BI tools, a second DuckDB session) keep the old file open and undisturbed; a run that
fails leaves the previous warehouse exactly as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import duckdb

from models_py.errors import ReelRecError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one run at a time is then up to the user
    fcntl = None  # type: ignore[assignment]

# Readable by DuckDB 1.0 and newer (many BI drivers bundle 1.x); DuckDB 2's default format is not.
STORAGE_VERSION = "v1.0.0"


def building_path(target: Path) -> Path:
    return target.with_name(target.name + ".building")


def _remove(path: Path) -> None:
    """A database file and what DuckDB keeps beside it: its WAL and its spill directory."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    spill = path.with_name(path.name + ".tmp")
    if spill.is_dir() and not spill.is_symlink():
        shutil.rmtree(spill, ignore_errors=True)


def lock_build(target: Path) -> IO[str]:
    """One run builds a given warehouse at a time; close the returned file to release it.
    The OS also releases it when its holder dies (even by SIGKILL), so whoever holds the
    lock may remove a killed run's leftovers."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fh = target.with_name(target.name + ".lock").open("a")
    if fcntl is not None:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise ReelRecError(
                f"another reelrec run is building {target}; wait for it to finish"
            ) from None
    return fh


def create_database(path: Path) -> None:
    """A new, empty database file in the chosen storage format; a stale one left by a killed
    run (with its WAL and spill directory) is removed first."""
    _remove(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    escaped = str(path).replace("'", "''")
    with duckdb.connect() as con:
        # ATTACH takes no bound parameters; the path is ours, quoted above.
        con.execute(f"attach '{escaped}' as fresh (storage_version '{STORAGE_VERSION}')")
        con.execute("detach fresh")


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def publish(build: Path, target: Path) -> None:
    """Swap the finished build in; the rename is atomic on one filesystem."""
    with connect(build) as con:
        con.execute("checkpoint")  # fold the WAL in: the published file must stand alone
    build.with_name(build.name + ".wal").unlink(missing_ok=True)
    os.replace(build, target)
    target.with_name(target.name + ".wal").unlink(missing_ok=True)


def discard(build: Path) -> None:
    _remove(build)
