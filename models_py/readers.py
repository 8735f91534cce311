"""Read xlsx and csv files into Arrow tables of text, one per sheet, with source row numbers.

Values are kept as written ("157,186", "0.70%", " 12 "); parsing is dbt's job. Row numbers are
the ones a user sees in Excel or a text editor: the header row is 1 when it is the first line.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import python_calamine

from models_py.columns import (
    CANONICAL_COLUMNS,
    HeaderMatch,
    match_headers,
    missing_required_message,
)
from models_py.errors import ReelRecError

# A header may sit below a title block; look this far down for it.
HEADER_SEARCH_ROWS = 20
# Excel's own sheet limit: a file claiming more rows is not a valid xlsx.
XLSX_MAX_ROWS = 1_048_576


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


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _numbers_text(np.array([value]))[0].as_py()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _numbers_text(numbers: np.ndarray) -> pa.Array:
    """Numbers as a user would type them, vectorised; nan (a blank) becomes null.

    Whole numbers print without ".0" (157186); others in shortest round-trip form (0.7).
    """
    floats = pa.array(numbers, from_pandas=True)  # nan -> null
    integral = np.isfinite(numbers) & (np.abs(numbers) < 1e15) & (np.floor(numbers) == numbers)
    as_int = pa.array(np.where(integral, numbers, 0).astype(np.int64)).cast(pa.string())
    return pc.if_else(pa.array(integral), as_int, floats.cast(pa.string()))


# Cell types calamine returns, coded for vectorised dispatch; anything else is rare.
_KIND: dict[type, int] = {float: 0, str: 1, type(None): 2}
_RARE = 3


def column_text(values: list[object]) -> pa.Array:
    """Text array for one column of cell values (str, float, bool, dates, None).

    Columns are all text, all numbers, or (scraped data) mostly numbers with some text
    such as "157,186": each case is vectorised; only rare cell types go cell by cell.
    Empty strings stay "" (the loader turns them into NULL inside DuckDB).
    """
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:
        return _numbers_text(np.array(values, dtype=np.float64))  # None -> nan
    except (TypeError, ValueError):
        pass
    cells = np.array(values, dtype=object)
    kind = np.fromiter((_KIND.get(type(v), _RARE) for v in values), np.int8, len(values))
    is_float = kind == _KIND[float]
    cells[is_float] = _numbers_text(cells[is_float].astype(np.float64)).to_numpy(
        zero_copy_only=False
    )
    rare = kind == _RARE
    cells[rare] = [_cell_text(v) for v in cells[rare]]
    return pa.array(cells, pa.string())


def find_header(
    rows: list[list[object]], column_map: dict[str, str], where: str
) -> tuple[int, HeaderMatch]:
    """First row (0-based) among the top rows that holds the required columns."""
    first_nonempty: tuple[int, HeaderMatch] | None = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(v not in (None, "") for v in row):
            continue
        match = match_headers(row, column_map, f"{where}, row {i + 1}")
        if match.has_required:
            return i, match
        if first_nonempty is None:
            first_nonempty = (i, match)
    if first_nonempty is None:
        raise ReelRecError(f"{where}: the sheet is empty (no header row, no data)")
    i, match = first_nonempty
    raise ReelRecError(missing_required_message(where, rows[i], match))


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


_CELL_REF = re.compile(rb"<c r=\"([A-Z]+)(\d+)\"[^>]*?(?:/>|>(.*?)</c>)", re.S)


# <v>…</v> holds a formula's saved result; <v/> or no <v> means Excel never calculated it.
_CACHED_VALUE = re.compile(rb"<v(?:\s[^>/]*)?>")


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


def formulas_without_value(path: Path) -> dict[str, list[tuple[str, int]]]:
    """Per sheet, (column letter, row) of formula cells with no cached value.

    calamine and openpyxl both return such cells as empty, so the value would vanish unnoticed.
    """
    lost: dict[str, list[tuple[str, int]]] = {}
    with zipfile.ZipFile(path) as zf:
        for name, xml_path in _sheet_xml_paths(zf).items():
            xml = zf.read(xml_path)
            if b"<f" not in xml:  # the common case: no formulas, skip the cell scan
                continue
            for m in _CELL_REF.finditer(xml):
                inner = m.group(3) or b""
                if b"<f" in inner and not _CACHED_VALUE.search(inner):
                    lost.setdefault(name, []).append((m.group(1).decode(), int(m.group(2))))
    return lost


def _column_letter_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _attach_lost_cells(
    table: pa.Table, match: HeaderMatch, cells: list[tuple[str, int]]
) -> tuple[pa.Table, list[str]]:
    """Add a lost_cells column naming the canonical columns whose formula had no value."""
    by_pos = {pos: c for c, pos in match.positions.items()}
    per_row: dict[int, list[str]] = {}
    refs = []
    for letters, row in cells:
        col = by_pos.get(_column_letter_index(letters))
        if col is not None:
            per_row.setdefault(row, []).append(col)
            refs.append(f"{col}@{letters}{row}")
    rows = table["source_row"].to_pylist()
    lost = [",".join(per_row[r]) if r in per_row else None for r in rows] if per_row else None
    column = pa.array(lost, pa.string()) if lost else pa.nulls(len(rows), pa.string())
    return table.append_column("lost_cells", column), refs


def read_xlsx(path: Path, column_map: dict[str, str], name: str) -> list[SheetData]:
    """Every sheet that holds ReelRec's required columns; other sheets are reported, not read."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        lost = formulas_without_value(path)
    except (python_calamine.CalamineError, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ReelRecError(
            f"{name}: cannot read as an Excel workbook ({type(exc).__name__}: {exc}); "
            "is the file truncated, password-protected or not really .xlsx?"
        ) from None
    sheets: list[SheetData] = []
    skipped: list[str] = []
    for sheet_name in workbook.sheet_names:
        where = f"{name}, sheet '{sheet_name}'"
        sheet = workbook.get_sheet_by_name(sheet_name)
        if sheet.total_height > XLSX_MAX_ROWS:
            raise ReelRecError(f"{where}: {sheet.total_height:,} rows exceeds Excel's limit")
        rows = sheet.to_python(skip_empty_area=False)
        try:
            header_index, match = find_header(rows, column_map, where)
        except ReelRecError as exc:
            skipped.append(str(exc))
            continue
        table = table_from_rows(rows, header_index, match, row_base=1)
        table, refs = _attach_lost_cells(table, match, lost.get(sheet_name, []))
        warnings = []
        if refs:
            shown = ", ".join(refs[:10]) + (" …" if len(refs) > 10 else "")
            warnings.append(
                f"{where}: {len(refs)} formula cell(s) have no saved value ({shown}); "
                "open and re-save the file in Excel to store them. Their rows are quarantined."
            )
        header = [str(h) if h is not None else "" for h in rows[header_index]]
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[object]] = []
    line_numbers: list[int] = []
    try:
        for record in reader:
            rows.append(list(record))
            line_numbers.append(reader.line_num)
    except csv.Error as exc:
        raise ReelRecError(f"{name}, line {reader.line_num}: malformed csv ({exc})") from None
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
