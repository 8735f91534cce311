"""Read xlsx and csv files into Arrow tables of text, one per sheet, with source row numbers.

Values are kept as written ("157,186", "0.70%", " 12 "); parsing is dbt's job. Row numbers are
the ones a user sees in Excel or a text editor: the header row is 1 when it is the first line.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models_py.contract import MAX_CELL_CHARS
from models_py.errors import ReelRecError
from models_py.ingest.columns import (
    CANONICAL_COLUMNS,
    HeaderMatch,
    check_column_map,
    match_headers,
    missing_required_message,
)
from models_py.ingest.xlsx_lost import LostCells, attach_lost_cells, lost_cells
from models_py.ingest.xlsx_scan import XLSX_MAX_ROWS, check_workbook

# A header may sit below a title block; look this far down for it.
HEADER_SEARCH_ROWS = 20
# Python's csv refuses fields over 128 KiB; a scraped Bio may hold more (a whole page).
csv.field_size_limit(max(csv.field_size_limit(), 64 << 20))


class HeaderNotFound(ReelRecError):
    """No row near the top holds the required columns: a workbook skips such a sheet."""


@dataclass
class SheetData:
    """One sheet (or csv file) read into text columns named as ReelRec's canonical columns."""

    source_file: str
    source_sheet: str | None
    file_format: str
    header_row: int
    headers: list[str]
    match: HeaderMatch
    table: pa.Table  # source_row, the canonical columns present, lost_cells
    lost_cells: list[str] = field(default_factory=list)  # "D17" refs of formulas with no value
    warnings: list[str] = field(default_factory=list)


def column_text(values: list[object]) -> pa.Array:
    """Text array for one column of csv fields (all str; "" stays "", made NULL on insert)."""
    return pa.array(values, pa.string())


def find_header(
    rows: list[list[object]], column_map: dict[str, str], where: str
) -> tuple[int, HeaderMatch]:
    """First row (0-based) among the top rows that holds the required columns; `--map` must
    fit that row."""
    first_nonempty: tuple[int, HeaderMatch] | None = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(v not in (None, "") for v in row):
            continue
        match = match_headers(row, column_map, f"{where}, row {i + 1}")
        if match.has_required:
            check_column_map(column_map, row, f"{where}, row {i + 1}")
            return i, match
        if first_nonempty is None:
            first_nonempty = (i, match)
    if first_nonempty is None:
        raise HeaderNotFound(f"{where}: the sheet is empty (no header row, no data)")
    i, match = first_nonempty
    raise HeaderNotFound(
        missing_required_message(f"{where}, row {i + 1}", rows[i], match, column_map)
    )


def table_from_rows(
    rows: list[list[object]], header_index: int, match: HeaderMatch, row_base: int
) -> pa.Table:
    """Canonical text columns for the data rows below the header (blank rows included)."""
    body = rows[header_index + 1 :]
    widths = [len(r) for r in body]
    width = max(widths, default=0)
    if widths and min(widths) < width:  # ragged rows (csv): pad so columns line up
        body = [r + [None] * (width - len(r)) for r in body]
    row_numbers = np.arange(len(body), dtype=np.int64) + header_index + 1 + row_base
    columns = list(zip(*body, strict=True)) if body else []
    data: dict[str, pa.Array] = {"source_row": pa.array(row_numbers)}
    for canonical in CANONICAL_COLUMNS:
        pos = match.positions.get(canonical)
        if pos is not None:
            values = list(columns[pos]) if pos < len(columns) else [None] * len(body)
            data[canonical] = column_text(values)
    return pa.table(data)


def cut_long_values(table: pa.Table, where: str) -> tuple[pa.Table, str | None]:
    """Values over Excel's 32,767 characters keep their first 32,768: dbt quarantines their
    rows as out_of_range, and a huge cell travels no further than the reader."""
    found = []
    for i, column_name in enumerate(table.column_names):
        if column_name not in CANONICAL_COLUMNS:
            continue
        column = table.column(i)
        over = pc.fill_null(pc.greater(pc.utf8_length(column), MAX_CELL_CHARS), False)
        if pc.any(over).as_py():
            rows = table["source_row"].filter(over).to_pylist()
            found += [f"{column_name} in row {r}" for r in rows]
            cut = pc.utf8_slice_codeunits(column, 0, MAX_CELL_CHARS + 1)
            table = table.set_column(i, column_name, pc.if_else(over, cut, column))
    if not found:
        return table, None
    shown = ", ".join(found[:10]) + (" …" if len(found) > 10 else "")
    return table, (
        f"{where}: {len(found)} cell(s) longer than Excel's {MAX_CELL_CHARS:,} characters "
        f"({shown}) were cut to {MAX_CELL_CHARS + 1:,}; their rows are quarantined as out_of_range"
    )


def _sheet_table(data: pa.Table, header_index: int, match: HeaderMatch) -> pa.Table:
    """Canonical columns of the rows below the header; row i of `data` is sheet row i + 1."""
    body = data.slice(header_index + 1)
    first = header_index + 2
    columns: dict[str, pa.Array] = {
        "source_row": pa.array(np.arange(first, first + body.num_rows, dtype=np.int64))
    }
    for canonical in CANONICAL_COLUMNS:
        pos = match.positions.get(canonical)
        if pos is not None:
            columns[canonical] = body.column(pos)
    return pa.table(columns)


# Encrypted (password-protected) xlsx files and legacy .xls are OLE2 containers, not zips.
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def _first_line(exc: Exception) -> str:
    """calamine's messages run over several lines of context; the first says what failed."""
    return str(exc).strip().split("\n", 1)[0].strip()


def _open_workbook(
    path: Path, name: str, scratch: Path
) -> tuple[fastexcel.ExcelReader, dict[str, LostCells]]:
    """calamine's reader on the workbook once xlsx_scan has checked it (or on its cut copy,
    made in `scratch`), and the cells calamine would read as empty."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(8)
        if magic == OLE2_MAGIC:
            raise ReelRecError(
                f"{name}: the workbook is password-protected (encrypted) or an old .xls file; "
                "open it in Excel and save it as an unprotected .xlsx"
            )
        if not magic:
            raise ReelRecError(f"{name}: cannot read as an Excel workbook: the file is empty")
        checked = check_workbook(path, name, scratch)
        lost = lost_cells(checked.path, name, checked.lost_sheets)
        return fastexcel.read_excel(str(checked.path)), lost
    except (
        fastexcel.FastExcelError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        ElementTree.ParseError,
        KeyError,
        EOFError,
        OSError,
    ) as exc:
        raise ReelRecError(
            f"{name}: cannot read as an Excel workbook ({_first_line(exc)}); "
            "is the file truncated, password-protected or not really .xlsx?"
        ) from None


def read_xlsx(path: Path, column_map: dict[str, str], name: str) -> list[SheetData]:
    """Every sheet that holds ReelRec's required columns; other sheets are reported, not read.

    fastexcel (calamine's Rust core, Arrow out) reads every cell as text: integers exactly,
    other numbers at 9 significant digits, as Excel's General format shows them.
    """
    with tempfile.TemporaryDirectory(prefix="reelrec-xlsx-") as scratch:
        workbook, lost = _open_workbook(path, name, Path(scratch))
        return _read_sheets(workbook, lost, column_map, name)


def _read_sheets(
    workbook: fastexcel.ExcelReader,
    lost: dict[str, LostCells],
    column_map: dict[str, str],
    name: str,
) -> list[SheetData]:
    sheets: list[SheetData] = []
    skipped: list[str] = []
    for sheet_name in workbook.sheet_names:
        where = f"{name}, sheet '{sheet_name}'"
        # skip_rows=0 keeps leading blank rows, so table row i is sheet row i + 1.
        try:
            data = workbook.load_sheet(
                sheet_name, header_row=None, skip_rows=0, dtypes="string"
            ).to_arrow()
        except fastexcel.FastExcelError as exc:
            raise ReelRecError(f"{where}: cannot read the sheet ({_first_line(exc)})") from None
        if data.num_rows > XLSX_MAX_ROWS:
            raise ReelRecError(f"{where}: {data.num_rows:,} rows exceeds Excel's limit")
        head = [list(r.values()) for r in data.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
        try:
            header_index, match = find_header(head, column_map, where)
        except HeaderNotFound as exc:
            skipped.append(str(exc))
            continue
        table, refs = attach_lost_cells(
            _sheet_table(data, header_index, match), match, lost.get(sheet_name)
        )
        table, long_cells = cut_long_values(table, where)
        warnings = [long_cells] if long_cells else []
        if refs:
            shown = ", ".join(refs[:10]) + (" …" if len(refs) > 10 else "")
            warnings.append(
                f"{where}: {len(refs)} formula cell(s) have no saved value ({shown}); "
                "open and re-save the file in Excel to store them. Their rows are quarantined."
            )
        header = [str(h) if h is not None else "" for h in head[header_index]]
        sheets.append(
            SheetData(
                name, sheet_name, "xlsx", header_index + 1, header, match, table, refs, warnings
            )
        )
    if not sheets:
        raise ReelRecError(skipped[0] if len(skipped) == 1 else f"{name}: " + "; ".join(skipped))
    if skipped:
        sheets[0].warnings.extend(f"skipped: {s}" for s in skipped)
    return sheets


# UTF-32's little-endian mark begins with UTF-16's: test it first.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _decode(raw: bytes, name: str) -> tuple[str, str | None]:
    """Text of a csv file: the encoding its byte-order mark names (Excel's "Unicode text" is
    UTF-16), else UTF-8, else Windows-1252/Latin-1 with a warning."""
    for mark, codec, label in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            try:
                return raw.decode(codec), None
            except UnicodeDecodeError as exc:
                raise ReelRecError(
                    f"{name}: starts with a {label} byte-order mark but byte {exc.start:,} "
                    f"is not {label}; save it again as UTF-8 csv"
                ) from None
    if (nul := raw.find(b"\x00")) >= 0:
        # UTF-16 without a mark, or not text: either way, Latin-1 would read it as garbage.
        line = raw.count(b"\n", 0, nul) + 1
        raise ReelRecError(
            f"{name}, line {line}: a NUL byte; is it UTF-16 without "
            "a byte-order mark, or not a text file? Save it as UTF-8 csv"
        )
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), (
            f"{name}: not UTF-8; read as Windows-1252/Latin-1 — check accented names"
        )


def _csv_records(text: str, delimiter: str, name: str) -> tuple[list[list[object]], list[int]]:
    """Records and the line each ends on. A quote never closed is an error: the lenient
    reader would silently fold every later line into that one cell."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[object]] = []
    line_numbers: list[int] = []
    try:
        for record in reader:
            rows.append(list(record))
            line_numbers.append(reader.line_num)
    except csv.Error as exc:
        raise ReelRecError(f"{name}, line {reader.line_num}: malformed csv ({exc})") from None
    if rows and text.count('"') % 2:
        _raise_if_unclosed_quote(text, delimiter, rows, line_numbers, name)
    return rows, line_numbers


def _raise_if_unclosed_quote(
    text: str, delimiter: str, rows: list[list[object]], line_numbers: list[int], name: str
) -> None:
    """An odd number of quotes is legal inside unquoted fields (5'11"); strict parsing of the
    last record tells whether its quote really runs to the end of the file."""
    start = line_numbers[-2] if len(line_numbers) > 1 else 0
    # Split lines exactly as the csv reader counted them.
    tail = "".join(io.StringIO(text, newline="").readlines()[start:])
    try:
        list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):
            return
        header = next((r for r in rows if any(str(v).strip() for v in r)), [])
        position = len(rows[-1]) - 1
        column = f"column '{header[position]}'" if position < len(header) else "a column"
        raise ReelRecError(
            f'{name}, line {start + 1}, {column}: a quoted value is never closed (a " with no '
            'closing "), so every later line would be read into that one cell; fix the quote'
        ) from None


def read_csv(path: Path, column_map: dict[str, str], name: str) -> list[SheetData]:
    """A csv file; delimiter sniffed among , ; tab |."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReelRecError(f"{name}: cannot read ({exc.strerror})") from None
    text, warning = _decode(raw, name)
    if not text.strip():
        raise ReelRecError(f"{name}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows, line_numbers = _csv_records(text, delimiter, name)
    header_index, match = find_header(rows, column_map, name)
    table = table_from_rows(rows, header_index, match, row_base=1)
    # csv records may span lines (quoted newlines): report the line each record starts on.
    starts = np.array([0, *line_numbers[:-1]], dtype=np.int64) + 1
    record_index = table["source_row"].to_numpy() - 1
    table = table.set_column(0, "source_row", pa.array(starts[record_index]))
    table, long_cells = cut_long_values(table, name)
    table = table.append_column("lost_cells", pa.nulls(table.num_rows, pa.string()))
    header = [str(h) for h in rows[header_index]]
    sheet = SheetData(name, None, "csv", int(starts[header_index]), header, match, table)
    sheet.warnings += [w for w in (warning, long_cells) if w]
    return [sheet]
