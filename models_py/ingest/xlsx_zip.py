"""An xlsx's zip members, decompressed as streams and held to the sizes they declare.

A few KB of deflate can expand to gigabytes, and calamine believes what a member's header
claims. Each XML member is decompressed here first, in chunks of at most CHUNK_BYTES, and the
workbook is refused when a member expands past its declared size, or the declared sizes pass
the caps below, before calamine reads a byte of it.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from models_py.errors import ReelRecError

CHUNK_BYTES = 16 << 20
# All XML of one workbook, decompressed. A sheet of Excel's 1,048,576 rows in ReelRec's 17
# columns is about 1 GB of XML; calamine holds every cell's text at once, so this also bounds
# what reading the workbook can take.
XLSX_MAX_XML_BYTES = 2 << 30
# Any XML part other than a worksheet or the shared strings (workbook, styles, relationships):
# a few KB in files spreadsheet programs write; calamine reads some of them whole.
XLSX_MAX_PART_BYTES = 64 << 20

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # PK\3\4 ... file name and extra field lengths
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def is_data_part(name: str) -> bool:
    """Worksheets and the shared strings: the parts that grow with the data."""
    lower = name.lower()
    return lower.startswith("xl/worksheets/") or lower == "xl/sharedstrings.xml"


def xml_members(path: Path, where: str) -> dict[str, zipfile.ZipInfo]:
    """The workbook's XML parts by name, refused when their declared sizes pass the caps."""
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if i.filename.lower().endswith((".xml", ".rels"))]
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ReelRecError(f"{where}: part {info.filename} is encrypted")
        if info.compress_type not in _METHODS:
            raise ReelRecError(
                f"{where}: part {info.filename} uses zip compression method "
                f"{info.compress_type}, which spreadsheet programs never write"
            )
        if not is_data_part(info.filename) and info.file_size > XLSX_MAX_PART_BYTES:
            raise ReelRecError(
                f"{where}: part {info.filename} expands to {info.file_size:,} bytes, more than "
                f"the {XLSX_MAX_PART_BYTES:,} a spreadsheet's {info.filename} ever needs"
            )
        total += info.file_size
    if total > XLSX_MAX_XML_BYTES:
        raise ReelRecError(
            f"{where}: the workbook expands to {total:,} bytes of XML, more than the "
            f"{XLSX_MAX_XML_BYTES:,} ReelRec reads from one workbook; save it as csv or parquet"
        )
    return {i.filename: i for i in infos}


def _data_offset(fh: BinaryIO, info: zipfile.ZipInfo, where: str) -> int:
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise ReelRecError(f"{where}: part {info.filename} has no valid zip header")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def member_chunks(fh: BinaryIO, info: zipfile.ZipInfo, where: str) -> Iterator[bytes]:
    """The member's bytes, decompressed CHUNK_BYTES at most at a time.

    Raises when the data expands past the declared size or ends short of it: calamine reads
    the same bytes, so what it sees is what was checked here.
    """
    fh.seek(_data_offset(fh, info, where))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    remaining, produced = info.compress_size, 0
    while remaining > 0:
        raw = fh.read(min(CHUNK_BYTES, remaining))
        if not raw:
            break
        remaining -= len(raw)
        while True:
            if inflater is None:
                out, raw = raw, b""
            else:
                out = inflater.decompress(raw, CHUNK_BYTES)
                raw = inflater.unconsumed_tail
            produced += len(out)
            if produced > info.file_size:
                raise ReelRecError(
                    f"{where}: part {info.filename} expands past the {info.file_size:,} bytes "
                    "its zip header declares (a damaged file or a zip bomb)"
                )
            if out:
                yield out
            # A full chunk may leave output inside zlib even with no input left: drain it.
            if not raw and len(out) < CHUNK_BYTES:
                break
    if produced != info.file_size or (inflater is not None and not inflater.eof):
        raise ReelRecError(
            f"{where}: part {info.filename} holds {produced:,} bytes where its zip header "
            f"declares {info.file_size:,}; is the file truncated?"
        )
