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


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


class BuildLock:
    """One run builds a given warehouse at a time, holding an advisory lock on
    `<warehouse>.lock`. The OS releases it when its holder dies (even by SIGKILL), so whoever
    holds the lock may remove a killed run's leftovers, the lock file of a killed run
    included: the next run takes it over."""

    def __init__(self, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path = lock_path(target)
        while True:
            self._fh: IO[str] | None = self.path.open("a")
            if fcntl is None:
                return
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._fh.close()
                raise ReelRecError(
                    f"another reelrec run is building {target}; wait for it to finish"
                ) from None
            # The holder we waited on may have removed the file we opened: a lock on that
            # orphan would exclude nobody, so lock whatever the path names now.
            if _same_file(self._fh, self.path):
                return
            self._fh.close()

    def close(self) -> None:
        """Release the lock and remove its file. Only the holder removes it, and before
        releasing, so no other run can hold a lock on a file that is gone."""
        if self._fh is None:
            return
        if fcntl is not None:
            self.path.unlink(missing_ok=True)
            self._fh.close()
        else:  # no lock held: the file is a marker only
            self._fh.close()
            self.path.unlink(missing_ok=True)
        self._fh = None


def _same_file(fh: IO[str], path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fh.fileno())
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def lock_build(target: Path) -> BuildLock:
    """Take the build lock of `target` (refused while another run holds it); close the
    returned lock to release it."""
    return BuildLock(target)


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
