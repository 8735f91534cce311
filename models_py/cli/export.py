"""Write result rows to .csv or .xlsx, safe to open in a spreadsheet.

Song titles, names and bios come from scraped data. A cell that starts with `=`, `+`, `-` or
`@` (or a tab or carriage return) is run as a formula by Excel, LibreOffice and Google Sheets
("CSV injection", OWASP), so such text gets a leading `'`; numbers are written as numbers, so a
negative score stays -1.5 and is never escaped.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from numbers import Number
from pathlib import Path

from models_py.errors import ReelRecError

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel's sheet limit, the header row included.
XLSX_MAX_ROWS = 1_048_576
FORMATS = (".csv", ".xlsx")


def escape_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading quote; all else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _check_target(path: Path, rows: int) -> str:
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
    ws = wb.create_sheet("reelrec")
    ws.append(list(headers))
    for row in rows:
        ws.append([_xlsx_value(v) for v in row])
    wb.save(path)


def write_table(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """Write `rows` under `headers` to a .csv or .xlsx chosen by suffix; returns rows written."""
    suffix = _check_target(path, len(rows))
    try:
        (_write_xlsx if suffix == ".xlsx" else _write_csv)(path, headers, rows)
    except OSError as exc:
        raise ReelRecError(f"--output {path}: cannot write ({exc.strerror})") from None
    return len(rows)
