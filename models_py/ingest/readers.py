"""Read xlsx and csv files into Arrow tables of text, one per sheet, with source row numbers.

Values are kept as written ("157,186", "0.70%", " 12 "); parsing is dbt's job. Row numbers are
the ones a user sees in Excel or a text editor: the header row is 1 when it is the first line.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import numpy as np
import pyarrow as pa

from models_py.errors import ReelRecError
from models_py.ingest.columns import (
    CANONICAL_COLUMNS,
    HeaderMatch,
    check_column_map,
    match_headers,
    missing_required_message,
)

# A header may sit below a title block; look this far down for it.
HEADER_SEARCH_ROWS = 20
# Excel's own sheet limit: a file claiming more rows is not a valid xlsx.
XLSX_MAX_ROWS = 1_048_576
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


_CELL_REF = re.compile(rb"<c r=\"([A-Z]+)(\d+)\"([^>]*?)(?:/>|>(.*?)</c>)", re.S)


def _sheet_xml_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet XML path inside the xlsx zip."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = {
        r.get("Id"): r.get("Target", "").lstrip("/") for r in rels.findall("rel:Relationship", ns)
    }
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    paths = {}
    for sheet in book.findall("m:sheets/m:sheet", ns):
        t = target.get(sheet.get(f"{{{ns['r']}}}id"), "")
        paths[sheet.get("name")] = t if t.startswith("xl/") else f"xl/{t}"
    return paths


@dataclass(frozen=True)
class LostCells:
    """Cells the reader cannot return as written, in one sheet, and where its data starts."""

    cells: list[tuple[str, int]]  # formulas with no saved value: (column letters, row)
    errors: list[tuple[str, int, str]]  # error values such as #VALUE!: (letters, row, text)
    first_column: int  # 0-based index of the leftmost column holding a value


_HAS_VALUE = re.compile(rb"<v(?:\s[^>/]*)?>|<is>")
_VALUE_TEXT = re.compile(rb"<v(?:\s[^>/]*)?>([^<]*)</v>")


def formulas_without_value(path: Path) -> dict[str, LostCells]:
    """Per sheet that has any: formula cells with no cached value, and error cells.

    The reader returns both as empty, so the value would vanish unnoticed: a formula's is
    lost (its rows are quarantined), an error's text (#VALUE!, #N/A…) is put back. Sheets
    with neither cost two substring searches of their XML.
    """
    lost: dict[str, LostCells] = {}
    with zipfile.ZipFile(path) as zf:
        for name, xml_path in _sheet_xml_paths(zf).items():
            xml = zf.read(xml_path)
            if b"<f" not in xml and b't="e"' not in xml:
                continue
            cells: list[tuple[str, int]] = []
            errors: list[tuple[str, int, str]] = []
            first_column = 1 << 20
            for m in _CELL_REF.finditer(xml):
                letters, row, attributes, inner = (
                    m.group(1).decode(),
                    int(m.group(2)),
                    m.group(3),
                    m.group(4) or b"",
                )
                if _HAS_VALUE.search(inner):
                    first_column = min(first_column, _column_letter_index(letters))
                    if b't="e"' in attributes and (text := _VALUE_TEXT.search(inner)):
                        errors.append((letters, row, html.unescape(text.group(1).decode())))
                elif b"<f" in inner:
                    cells.append((letters, row))
            if cells or errors:
                lost[name] = LostCells(cells, errors, first_column if first_column < 1 << 20 else 0)
    return lost


def _column_letter_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _attach_lost_cells(
    table: pa.Table, match: HeaderMatch, lost: LostCells | None
) -> tuple[pa.Table, list[str]]:
    """Put error texts back, and add lost_cells naming columns whose formula had no value."""
    per_row: dict[int, list[str]] = {}
    refs = []
    if lost is not None:
        by_pos = {pos: c for c, pos in match.positions.items()}
        rows = table["source_row"].to_pylist()
        index_of = {r: i for i, r in enumerate(rows)}
        for letters, row in lost.cells:
            col = by_pos.get(_column_letter_index(letters) - lost.first_column)
            if col is not None and row in index_of:
                per_row.setdefault(row, []).append(col)
                refs.append(f"{col}@{letters}{row}")
        patches: dict[str, dict[int, str]] = {}
        for letters, row, text in lost.errors:
            col = by_pos.get(_column_letter_index(letters) - lost.first_column)
            if col is not None and row in index_of:
                patches.setdefault(col, {})[index_of[row]] = text
        for col, fixes in patches.items():
            values = table[col].to_pylist()
            for i, text in fixes.items():
                values[i] = text
            table = table.set_column(
                table.column_names.index(col), col, pa.array(values, pa.string())
            )
    lost_column = (
        pa.array(
            [
                ",".join(per_row[r]) if r in per_row else None
                for r in table["source_row"].to_pylist()
            ],
            pa.string(),
        )
        if per_row
        else pa.nulls(table.num_rows, pa.string())
    )
    return table.append_column("lost_cells", lost_column), refs


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


def _open_workbook(path: Path, name: str) -> tuple[fastexcel.ExcelReader, dict[str, LostCells]]:
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
        return fastexcel.read_excel(str(path)), formulas_without_value(path)
    except (
        fastexcel.FastExcelError,
        zipfile.BadZipFile,
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
    workbook, lost = _open_workbook(path, name)
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
        table, refs = _attach_lost_cells(
            _sheet_table(data, header_index, match), match, lost.get(sheet_name)
        )
        warnings = []
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


def _decode(raw: bytes, name: str) -> tuple[str, str | None]:
    """Text of a csv file: UTF-8 (BOM or not), else Windows-1252/Latin-1 with a warning."""
    try:
        return raw.decode("utf-8-sig"), None
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
    table = table.append_column("lost_cells", pa.nulls(table.num_rows, pa.string()))
    header = [str(h) for h in rows[header_index]]
    sheets = [SheetData(name, None, "csv", int(starts[header_index]), header, match, table)]
    if warning:
        sheets[0].warnings.append(warning)
    return sheets
