"""Workbooks no spreadsheet program writes, crafted by editing an openpyxl file's XML: far
cells, long texts (openpyxl itself cuts a text to 32,767 characters), shared strings, other
spellings of the same cells, and zip headers that lie."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.files import HEADER, reel_row
from tests.hostile_files import xlsx_bytes

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PLACEHOLDER = "PLACEHOLDER"  # a Bio written by openpyxl, replaced in the XML


def craft(
    path: Path,
    rows: list[list[object]] | None = None,
    sheet: Callable[[bytes], bytes] = lambda xml: xml,
    strings: Iterable[bytes] | None = None,
) -> Path:
    """openpyxl's workbook of `rows` (a header and three reels by default) with its sheet XML
    edited by `sheet`; `strings` (the parts of xl/sharedStrings.xml, streamed) make the Bio
    of the first data row shared string 0."""
    rows = rows or [HEADER, reel_row(1, Bio=PLACEHOLDER), reel_row(2), reel_row(3)]
    with (
        zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows))) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for item in src.infolist():
            body = src.read(item)
            if item.filename == SHEET:
                if strings is not None:
                    inline = f't="inlineStr"><is><t>{PLACEHOLDER}</t></is>'.encode()
                    body = body.replace(inline, b't="s"><v>0</v>')
                body = sheet(body)
            dst.writestr(item.filename, body)
        if strings is not None:
            with dst.open(STRINGS, "w", force_zip64=True) as out:
                for part in strings:
                    out.write(part)
    return path


def shared_strings(*items: bytes) -> list[bytes]:
    return [f'<sst xmlns="{MAIN_NS}">'.encode(), *items, b"</sst>"]


def one_long_string(chars: int, block: bytes = b"x" * (1 << 20)) -> Iterable[bytes]:
    """xl/sharedStrings.xml with one string of `chars` characters, written as it streams."""
    yield f'<sst xmlns="{MAIN_NS}"><si><t>'.encode()
    whole, rest = divmod(chars, len(block))
    for _ in range(whole):
        yield block
    yield block[:rest]
    yield b"</t></si></sst>"


def add_row(xml: bytes, row: int, cells: str) -> bytes:
    """A row of raw cell XML appended to the sheet."""
    return xml.replace(b"</sheetData>", f'<row r="{row}">{cells}</row></sheetData>'.encode())


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def far_cell(ref: str) -> Callable[[bytes], bytes]:
    """One text cell at `ref`, in a row of its own, below the data."""
    row = int(re.sub("[A-Z]", "", ref))
    return lambda xml: add_row(xml, row, inline(ref, "stray"))


def without_references(xml: bytes) -> bytes:
    """Cells placed by their order in the row, as some writers do: no r="A1"."""
    return re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", xml)


def prefixed(xml: bytes) -> bytes:
    """The same sheet with every element under an x: prefix (.NET's OpenXML SDK style)."""
    xml = re.sub(rb"<(/?)(?=[a-zA-Z])", rb"<\1x:", xml)
    return xml.replace(b"<x:worksheet ", f'<x:worksheet xmlns:x="{MAIN_NS}" '.encode(), 1)


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the central directory's uncompressed size of `member`: a header that lies."""
    data = bytearray(path.read_bytes())
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        (name_length,) = struct.unpack_from("<H", data, at + 28)
        if bytes(data[at + 46 : at + 46 + name_length]) == member.encode():
            struct.pack_into("<L", data, at + 24, size)
        at += 4
    path.write_bytes(bytes(data))
