"""What a path holds, checked before anything is written there, and writes that replace a file
in one rename.

A command that writes a file must never replace data of another kind: a warehouse with HTML, an
input workbook with a CSV export. What a file holds is read from its first bytes (its magic
number), not trusted from its name. Writes go to a temporary file in the same folder, renamed
over the target when complete: a reader sees the old file or the new one, never half of one, a
failed write leaves the old file as it was, and a symlink planted at the target is replaced,
never written through.
"""

from __future__ import annotations

import glob
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from models_py.errors import ReelRecError

DUCKDB = "a DuckDB database"
HTML = "an HTML page"
ZIP = "an Excel workbook or other zip archive"
TEXT = "a text file"
MISSING = "nothing"
EMPTY = "an empty file"
FOLDER = "a folder"
# (offset, magic, kind). A DuckDB file starts with an 8-byte checksum, then "DUCK".
MAGIC = (
    (8, b"DUCK", DUCKDB),
    (0, b"PK\x03\x04", ZIP),
    (0, b"PK\x05\x06", ZIP),  # an empty zip
    (0, b"PAR1", "a parquet file"),
    (0, bytes.fromhex("D0CF11E0A1B11AE1"), "an old Excel (.xls) or encrypted workbook"),
    (0, b"SQLite format 3\x00", "an SQLite database"),
    (0, b"%PDF", "a PDF document"),
)
SNIFF_BYTES = 1024


def _looks_like_html(head: bytes) -> bool:
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


def kind_of(path: Path) -> str:
    """What is at `path`, in words, judged by its first bytes (a symlink is followed)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return MISSING
    except OSError as exc:  # a dangling link's loop, a folder we may not enter
        return f"unreadable ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return FOLDER
    if not stat.S_ISREG(mode):
        return "not a regular file"
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if not head:
        return EMPTY
    for offset, magic, kind in MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if _looks_like_html(head):
        return HTML
    try:
        # A multi-byte character may be cut at the end of the sniffed bytes.
        head[: SNIFF_BYTES - 4].decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    return TEXT if b"\x00" not in head else "binary data"


def refuse_unless(path: Path, option: str, *replaceable: str) -> str:
    """The kind at `path` when a write may replace it: nothing there, an empty file, or one of
    the `replaceable` kinds. Anything else (a folder, another kind of file) is refused."""
    kind = kind_of(path)
    if kind in (MISSING, EMPTY, *replaceable):
        return kind
    if kind == FOLDER:
        raise ReelRecError(f"{option} {path} is a folder; give a file name")
    wanted = " or ".join(replaceable) or "a file of its own"
    raise ReelRecError(
        f"{option} {path} already holds {kind}, not {wanted}; refusing to replace it "
        "(choose another name, or move that file away first)"
    )


def require_suffix(path: Path, option: str, *suffixes: str) -> None:
    if path.suffix.lower() not in suffixes:
        raise ReelRecError(f"{option} {path}: give a file name ending in {' or '.join(suffixes)}")


def fsync_folder(folder: Path) -> None:
    """Make renames in `folder` durable (POSIX); a no-op where folders cannot be opened."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _create_beside(path: Path) -> Path:
    """A new empty file beside `path`, created exclusively (never through an existing name or a
    symlink), with the permissions a plain open() gives a new file (mkstemp would give 0600)."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise ReelRecError(f"cannot write in {path.parent} ({exc.strerror})") from None
        return candidate
    raise ReelRecError(f"cannot write in {path.parent} (no free temporary name)")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` to write to; when the block ends without an error it is
    synced and renamed over `path`, otherwise removed. The rename replaces a symlink at `path`
    rather than writing through it; an existing file's permissions are kept."""
    temporary = _create_beside(path)
    try:
        yield temporary
        with suppress(FileNotFoundError):
            existing = path.lstat()
            if stat.S_ISREG(existing.st_mode):
                os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        with temporary.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_text_replacing(path: Path, text: str) -> Path:
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def remove_partials(path: Path) -> None:
    """The temporary files `replacing(path)` leaves when its process is killed mid-write."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.partial"):
        leftover.unlink(missing_ok=True)
