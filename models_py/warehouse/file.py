"""The warehouse file: built beside the live one, then swapped in atomically
(`models_py.warehouse.publish`).

Readers (BI tools, a second DuckDB session) keep the old file open and undisturbed; a run that
fails leaves the previous warehouse exactly as it was. What a `--warehouse` path holds is
checked before any work: a folder, another kind of file or a file another program is writing
is a clear error up front, never a failure at publish or an input file replaced.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import duckdb

from models_py.errors import ReelRecError
from models_py.warehouse import paths

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one run at a time is then up to the user
    fcntl = None  # type: ignore[assignment]

# Readable by DuckDB 1.0 and newer (many BI drivers bundle 1.x); DuckDB 2's default format is not.
STORAGE_VERSION = "v1.0.0"
SUFFIXES = (".duckdb", ".db", ".ddb")
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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
        self.path = lock_path(target)
        while True:
            self._fh: IO[str] | None = _open_lock_file(self.path)
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


def _open_lock_file(path: Path) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Never through a symlink planted at the lock's name.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | NOFOLLOW, 0o666)
    except OSError as exc:
        raise ReelRecError(f"cannot create the lock file {path} ({exc.strerror})") from None
    return os.fdopen(fd, "a")


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


def _lock_holder(exc: duckdb.Error) -> str | None:
    """Who holds a file open for writing, from DuckDB's refusal to open it; None if the error
    is not about a lock."""
    text = str(exc)
    if "Conflicting lock" in text:
        pid = re.search(r"\(PID (\d+)\)", text)
        return f"another program (PID {pid.group(1)})" if pid else "another program"
    if "different configuration" in text:
        return "this program"
    return None


def write_lock_holder(path: Path) -> str | None:
    """Who holds the DuckDB file at `path` open for writing, or None (readers hold no such
    lock; a missing or unreadable file has no holder)."""
    if paths.kind_of(path) != paths.DUCKDB:
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return _lock_holder(exc)
    con.close()
    return None


def check_target(path: Path) -> Path:
    """The file a run publishes to: `path` with symlinks resolved, so a linked warehouse is
    updated where it lives. Whatever would stop the publish is refused now, before any work."""
    target = path.resolve()
    if target.is_dir():
        raise ReelRecError(
            f"--warehouse {path} is a folder; give a file name, e.g. {path / 'warehouse.duckdb'}"
        )
    folder = next((p for p in target.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise ReelRecError(f"--warehouse {path}: {folder} is a file, not a folder")
    paths.refuse_unless(target, "--warehouse", paths.DUCKDB)
    paths.require_suffix(target, "--warehouse", *SUFFIXES)
    holder = write_lock_holder(target)
    if holder:
        raise ReelRecError(
            f"--warehouse {target} is open for writing by {holder}; close it there (or open it "
            "read-only) first: a run replaces the file, and what that program wrote after "
            "would be lost"
        )
    return target


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


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A reading connection to a built warehouse, or one clear line saying why there is none."""
    kind = paths.kind_of(path)
    if kind == paths.MISSING:
        raise ReelRecError(f"no warehouse at {path}; build it with `make run` or `reelrec run`")
    if kind != paths.DUCKDB:
        raise ReelRecError(f"--warehouse {path} is {kind}, not a DuckDB warehouse")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        holder = _lock_holder(exc)
        if holder:
            raise ReelRecError(
                f"--warehouse {path} is open for writing by {holder}; close it there (or open "
                "it read-only) and try again"
            ) from None
        first = str(exc).strip().split("\n", 1)[0]
        raise ReelRecError(f"--warehouse {path}: cannot open it ({first})") from None


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_read_only(path) if read_only else duckdb.connect(str(path), read_only=False)
    try:
        yield con
    finally:
        con.close()


def discard(build: Path) -> None:
    _remove(build)
