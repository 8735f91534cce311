"""An xlsx checked before calamine reads it, so a small file cannot take all memory.

calamine lays a sheet out as a dense grid from its first to its last used cell and holds every
text whole: one cell at XFD30000 makes a grid of 491,520,000 cells (GBs), XFD1048576 aborts the
process, and a 1.2 GB cell compresses into a 1 MB file. Every XML part is inflated here first as
a stream (xlsx_zip: sizes held to their headers and caps), and each worksheet is judged by
substring searches, one pass:

- its extent: the largest row number a <row> declares, checked against every cell reference,
  times the widest column reference, must stay within MAX_SHEET_CELLS;
- a stretch of SPAN_BYTES with no cell in it (one cell that long) is noted;
- XML the searches cannot judge (cells without a reference, prefixed cell elements, comments,
  CDATA) is noted.

What is noted goes to xlsx_exact's parser: long cells and shared strings are cut to Excel's
32,767 characters (plus one, so dbt still sees the value was too long) in a copy of the
workbook, and a sheet's true used range, as calamine computes it, is checked against the
limits. Files as spreadsheet programs write them take the searches only. The <dimension> a
sheet declares is never trusted: calamine uses it only as a size hint.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from models_py.errors import ReelRecError
from models_py.ingest import xlsx_exact
from models_py.ingest.xlsx_exact import column_index
from models_py.ingest.xlsx_zip import CHUNK_BYTES, member_chunks, xml_members

XLSX_MAX_ROWS = 1_048_576  # Excel's own sheet limits
XLSX_MAX_COLUMNS = 16_384
# calamine's grid costs about 35 bytes a cell: this many is about 1.2 GB, room for Excel's
# every row in 32 columns.
MAX_SHEET_CELLS = 32 * XLSX_MAX_ROWS
SPAN_BYTES = xlsx_exact.SPAN_BYTES
SHARED_STRINGS = "xl/sharedstrings.xml"

_CELL = b'<c r="'
_PREFIXED = re.compile(rb":(?:c|row|sheetData|si|is|r|t|v|f)[\s/>]")
_ROW_NUMBER = re.compile(rb'<row r="([0-9]{1,7})"')
_WIDE_COLUMN = re.compile(rb'<c r="([A-Z]{2,})[0-9]')
_ERROR_TYPE = re.compile(rb't="e"')


@cache
def _anomaly(wide_seen: bool, formula_seen: bool) -> re.Pattern[bytes]:
    """The next thing in a sheet's XML the scan must look at: a cell whose reference is not
    letters then digits (none, another spelling, or, until some were measured, two or more
    letters), a "<!" (comment, CDATA, DTD), or the first formula. One pass when none occurs."""
    reference = "[A-Z]+" if wide_seen else "[A-Z]"
    parts = [f'c(?! r="{reference}[0-9])[\\s/>]', "!", *([] if formula_seen else ["f[\\s/>]"])]
    return re.compile(("<(?:" + "|".join(parts) + ")").encode())


@cache
def _row_above(limit: int) -> re.Pattern[bytes]:
    """A cell reference whose row number is above `limit` (or written with more digits)."""
    digits = str(limit)
    higher = [f"[0-9]{{{len(digits) + 1},}}"] + [
        digits[:i] + f"[{int(d) + 1}-9]" + "[0-9]" * (len(digits) - i - 1)
        for i, d in enumerate(digits)
        if d != "9"
    ]
    return re.compile(('<c r="[A-Z]+(?:' + "|".join(higher) + ')"').encode())


def _has_gap(data: bytes, stop: int, marker: bytes) -> bool:
    """Whether a whole SPAN_BYTES block of data[:stop] lacks `marker`: any gap of twice that
    between two markers contains one."""
    return any(
        data.find(marker, i, i + SPAN_BYTES) < 0
        for i in range(0, stop - SPAN_BYTES + 1, SPAN_BYTES)
    )


def segments(chunks: Iterable[bytes], end: bytes) -> Iterator[tuple[bytes, int]]:
    """(data, stop): the chunks re-cut just after the last `end` in each, so what is searched
    for in data[:stop] never straddles two segments (data with no `end` in two chunks is passed
    on whole). Searches take the bounds rather than a copy of the slice."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(end)
        if cut < 0 and len(data) <= 2 * CHUNK_BYTES:
            carry = data
            continue
        stop = len(data) if cut < 0 else cut + len(end)
        carry = data[stop:]
        yield data, stop
    if carry:
        yield carry, len(carry)


@dataclass
class SheetScan:
    irregular: bool = False  # XML the searches cannot judge
    long_span: bool = False  # room for a cell over SPAN_BYTES
    beyond_rows: bool = False  # a cell referenced below the last <row> seen
    max_row: int = 0  # the largest row number of the last <row> of each segment
    width: int = 26  # columns the cell references reach (26 while they are single letters)
    lost: bool = False  # a formula or an error cell: see xlsx_lost

    @property
    def needs_exact(self) -> bool:
        return (
            self.irregular
            or self.long_span
            or self.beyond_rows
            or self.max_row > XLSX_MAX_ROWS
            or self.max_row * self.width > MAX_SHEET_CELLS
        )


def _judge_cells(data: bytes, stop: int, scan: SheetScan) -> None:
    wide_seen, pos = False, 0
    while m := _anomaly(wide_seen, scan.lost).search(data, pos, stop):
        if m[0].startswith(b"<f"):
            scan.lost = True
        elif m[0].startswith(b"<c") and _WIDE_COLUMN.match(data, m.start()):
            wide_seen = True
            letters = set(_WIDE_COLUMN.findall(data, m.start(), stop))
            scan.width = max(scan.width, *(column_index(c.decode()) + 1 for c in letters))
        else:
            scan.irregular = True
            return
        pos = m.start()


def scan_sheet(chunks: Iterable[bytes]) -> SheetScan:
    """One streamed pass of searches over a worksheet's XML. Rows of a sheet are written in
    order, so the last <row> of each segment bounds the rows of its cells; a cell beyond it,
    like anything else the searches cannot vouch for, sends the sheet to the exact parser."""
    scan = SheetScan()
    for data, stop in segments(chunks, b"</c>"):
        if scan.irregular:
            continue  # the parser reads it all again; inflating still checks the zip sizes
        _judge_cells(data, stop, scan)
        scan.irregular |= _PREFIXED.search(data, 0, stop) is not None
        if (last := data.rfind(b"<row ", 0, stop)) >= 0 and (row := _ROW_NUMBER.match(data, last)):
            scan.max_row = max(scan.max_row, int(row[1]))
        scan.beyond_rows |= _row_above(scan.max_row).search(data, 0, stop) is not None
        scan.long_span |= _has_gap(data, stop, _CELL)
        if not scan.lost:
            scan.lost = _ERROR_TYPE.search(data, 0, stop) is not None
    return scan


@dataclass
class StringsScan:
    items: int = 0
    irregular: bool = False
    long_span: bool = False


def scan_strings(chunks: Iterable[bytes]) -> StringsScan:
    scan = StringsScan()
    for data, stop in segments(chunks, b"</si>"):
        if scan.irregular or scan.long_span:
            continue  # to be cut, and counted, by the parser
        scan.items += data.count(b"<si", 0, stop)
        scan.irregular |= data.find(b"<!", 0, stop) >= 0
        scan.irregular |= _PREFIXED.search(data, 0, stop) is not None
        scan.long_span |= _has_gap(data, stop, b"<si")
    return scan


def sheet_xml_paths(zf: zipfile.ZipFile) -> dict[str, str]:
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


def _check_extent(extent: xlsx_exact.Extent | None, where: str) -> None:
    if extent is None:
        return
    if extent.last_row >= XLSX_MAX_ROWS:
        raise ReelRecError(
            f"{where}: cell {extent.lowest} lies below row {XLSX_MAX_ROWS:,}, Excel's limit"
        )
    if extent.last_col >= XLSX_MAX_COLUMNS:
        raise ReelRecError(
            f"{where}: cell {extent.rightmost} lies right of column XFD, Excel's limit"
        )
    rows = extent.last_row - extent.first_row + 1
    columns = extent.last_col - extent.first_col + 1
    if rows * columns > MAX_SHEET_CELLS:
        far = extent.rightmost if columns > 1024 else extent.lowest
        first = f"{xlsx_exact.column_letters(extent.first_col)}{extent.first_row + 1}"
        last = f"{xlsx_exact.column_letters(extent.last_col)}{extent.last_row + 1}"
        raise ReelRecError(
            f"{where}: cell {far} stretches the used range to {first}:{last} ({rows:,} rows × "
            f"{columns:,} columns), more than the {MAX_SHEET_CELLS:,} cells ReelRec reads from "
            "a sheet; delete the cells outside your data (Ctrl+End in Excel finds the last "
            "one) or save the sheet as csv"
        )


def _check_strings(items: int, where: str) -> None:
    """calamine holds every shared string, each costing tens of bytes even when empty."""
    if items > MAX_SHEET_CELLS:
        raise ReelRecError(
            f"{where}: {items:,} shared strings, more than the {MAX_SHEET_CELLS:,} cells "
            "ReelRec reads from a sheet"
        )


@dataclass(frozen=True)
class CheckedWorkbook:
    path: Path  # what calamine may read: the file itself, or a copy with long texts cut
    cut: int  # cells and shared strings cut to Excel's limit in that copy
    lost_sheets: dict[str, str]  # sheet name -> XML path, for sheets with formulas or errors


class _Workbook:
    """One workbook's XML parts, each streamed (and its sizes verified) on every read."""

    def __init__(self, path: Path, where: str) -> None:
        self.path, self.where = path, where
        self.members = xml_members(path, where)
        self.by_name = {name.lower(): m for name, m in self.members.items()}
        with zipfile.ZipFile(path) as zf:
            self.sheets = sheet_xml_paths(zf)
        self.fh: BinaryIO = path.open("rb")

    def chunks(self, member: zipfile.ZipInfo) -> Iterator[bytes]:
        return member_chunks(self.fh, member, self.where)

    def close(self) -> None:
        self.fh.close()

    def sheet_scans(self) -> dict[str, tuple[zipfile.ZipInfo, SheetScan]]:
        scans = {}
        for sheet, xml_path in self.sheets.items():
            if member := self.by_name.get(xml_path.lower()):
                scans[sheet] = (member, scan_sheet(self.chunks(member)))
        return scans


def check_workbook(path: Path, where: str, scratch: Path) -> CheckedWorkbook:
    """Refuse what would take calamine too much memory; cut what can be cut.

    `scratch` is a folder that outlives the read, for the cut copy."""
    with closing(_Workbook(path, where)) as book:
        data_parts = {SHARED_STRINGS, *(p.lower() for p in book.sheets.values())}
        for name, member in book.by_name.items():
            if name not in data_parts:
                for _ in book.chunks(member):  # inflating is what checks the sizes
                    pass
        to_cut = []
        if strings_member := book.by_name.get(SHARED_STRINGS):
            strings = scan_strings(book.chunks(strings_member))
            _check_strings(strings.items, where)
            if strings.irregular or strings.long_span:
                to_cut.append(strings_member)
        scans = book.sheet_scans()
        to_cut += [member for member, scan in scans.values() if scan.long_span]
        cut = _write_cut_copy(book, to_cut, scratch / "cut.xlsx") if to_cut else 0
    if cut:
        path = scratch / "cut.xlsx"
    with closing(_Workbook(path, where)) as book:
        if cut:
            scans = book.sheet_scans()
        for sheet, (member, scan) in scans.items():
            if scan.needs_exact:
                sheet_where = f"{where}, sheet '{sheet}'"
                parser = xlsx_exact.Worksheet(None)
                parser.feed(book.chunks(member), sheet_where)
                _check_extent(parser.extent, sheet_where)
        lost = {s: book.sheets[s] for s, (_, scan) in scans.items() if scan.lost}
    return CheckedWorkbook(path, cut, lost)


def _write_cut_copy(book: _Workbook, to_cut: list[zipfile.ZipInfo], copy: Path) -> int:
    """A copy of the workbook's XML parts (all that calamine reads) with the long texts of
    `to_cut` cut; returns how many were."""
    cut = 0
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for name, member in book.members.items():
            with dst.open(name, "w", force_zip64=True) as out:
                if member not in to_cut:
                    for chunk in book.chunks(member):
                        out.write(chunk)
                    continue
                strings = name.lower() == SHARED_STRINGS
                part = xlsx_exact.SharedStrings(out) if strings else xlsx_exact.Worksheet(out)
                part.feed(book.chunks(member), f"{book.where}, {name}")
                if isinstance(part, xlsx_exact.SharedStrings):
                    _check_strings(part.items, book.where)
                cut += part.cut
    return cut
