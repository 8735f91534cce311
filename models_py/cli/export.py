"""Write result rows to .csv or .xlsx, safe to open in a spreadsheet.

Song titles, names and bios come from scraped data. A cell that starts with `=`, `+`, `-` or
`@` (or a tab or carriage return) is run as a formula by Excel, LibreOffice and Google Sheets
("CSV injection", OWASP), so such text gets a leading `'`; numbers are written as numbers, so a
negative score stays -1.5 and is never escaped.

An export never replaces another file unasked: an existing file is replaced only with `--force`,
and only if it is an earlier export (an input workbook or a warehouse never is). The file is
written beside its name and renamed into place, so a failed export leaves the old one whole.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Sequence
from numbers import Number
from pathlib import Path

from models_py.errors import ReelRecError
from models_py.warehouse import paths

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel's sheet limit, the header row included.
XLSX_MAX_ROWS = 1_048_576
FORMATS = (".csv", ".xlsx")
SHEET = "reelrec"
# Every column an export has (the recommend and similar tables): a csv whose header uses only
# these is one of ours.
EXPORT_COLUMNS = frozenset({"method", "rank", "title", "artist", "score", "why", "similarity"})


def escape_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading quote; all else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def is_export(path: Path) -> bool:
    """Whether `path` holds a file `write_table` wrote (its header, or its one sheet's name)."""
    kind = paths.kind_of(path)
    if kind == paths.ZIP:
        try:
            with zipfile.ZipFile(path) as zf, zf.open("xl/workbook.xml") as fh:
                workbook = fh.read(1 << 16)
        except (OSError, KeyError, zipfile.BadZipFile):
            return False
        return workbook.count(b"<sheet ") == 1 and f'name="{SHEET}"'.encode() in workbook
    if kind != paths.TEXT:
        return False
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        header = next(csv.reader([fh.readline(4096)]), [])
    return bool(header) and set(header) <= EXPORT_COLUMNS


def _check_existing(path: Path, force: bool) -> None:
    kind = paths.kind_of(path)
    if kind in (paths.MISSING, paths.EMPTY):
        return
    if kind == paths.FOLDER:
        raise ReelRecError(f"--output {path} is a folder; give a file name")
    if not is_export(path):
        raise ReelRecError(
            f"--output {path} already holds {kind} that is not a reelrec export; refusing to "
            "replace it (choose another name)"
        )
    if not force:
        raise ReelRecError(f"--output {path} exists; pass --force to replace that export")


def _check_target(path: Path, rows: int, force: bool) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ReelRecError(f"--output {path}: give a file name ending in .csv or .xlsx")
    if suffix == ".xlsx" and rows + 1 > XLSX_MAX_ROWS:
        raise ReelRecError(
            f"--output {path}: {rows:,} rows do not fit in an Excel sheet "
            f"({XLSX_MAX_ROWS:,} rows at most, header included); write .csv instead, or query "
            "the warehouse directly (DuckDB can COPY a table to .parquet)"
        )
    if not path.parent.is_dir():
        raise ReelRecError(f"--output {path}: folder {path.parent} does not exist")
    _check_existing(path, force)
    return suffix


def _write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    # UTF-8 with a BOM: Excel then reads emoji and accents right. Text is always quoted and
    # numbers never are, so a spreadsheet cannot mistake one for the other.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else escape_cell(v) for v in row])


def _xlsx_value(value: object) -> object:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, Number) or value is None:
        return value
    # xlsx cannot hold control characters other than tab and newlines: show where one was.
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(escape_cell(value)))


def _write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.append(list(headers))
    for row in rows:
        ws.append([_xlsx_value(v) for v in row])
    wb.save(path)


def write_table(
    path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]], force: bool = False
) -> int:
    """Write `rows` under `headers` to a .csv or .xlsx chosen by suffix; returns rows written.
    `force` replaces an earlier export at `path`; nothing else is ever replaced."""
    suffix = _check_target(path, len(rows), force)
    try:
        with paths.replacing(path) as partial:
            (_write_xlsx if suffix == ".xlsx" else _write_csv)(partial, headers, rows)
    except OSError as exc:
        raise ReelRecError(f"--output {path}: cannot write ({exc.strerror})") from None
    return len(rows)
