"""A worksheet's or the shared strings' XML parsed exactly (expat), for what xlsx_scan's
substring searches cannot judge: where each cell sits as calamine places it, and a copy of the
part with every text longer than Excel's limit cut, so calamine never holds it whole.

Memory stays bounded whatever the XML: the parser is fed 1 MiB at a time, text arrives in
pieces of at most 64K characters, a cell is buffered only up to SPAN_BYTES, a tag or comment
that produces no event for QUIET_BYTES is refused rather than buffered, and so is nesting
deeper than MAX_DEPTH.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.parsers import expat

from models_py.contract import MAX_CELL_CHARS
from models_py.errors import ReelRecError

SPAN_BYTES = 1 << 20  # a cell or shared string buffered for copying; past this it is cut
QUIET_BYTES = 4 << 20
MAX_DEPTH = 256  # a worksheet nests about 6 deep; each open element costs the parser memory
_PIECE = 1 << 20
_FLUSH = 1 << 20


def column_letters(index: int) -> str:
    """0 -> A, 16383 -> XFD."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, XFD -> 16383 (either case, as calamine reads references)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _split_ref(ref: str) -> tuple[int, int] | None:
    """'B7' -> (row 6, column 1), 0-based; None when calamine could not read it either."""
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters) :]
    if not digits or not letters.isalpha() or not letters.isascii() or int(digits) == 0:
        return None
    return int(digits) - 1, column_index(letters)


def _attribute(attrs: list[str], key: str) -> str | None:
    for i in range(0, len(attrs), 2):
        if attrs[i] == key:
            return attrs[i + 1]
    return None


def _escape_attribute(value: str) -> str:
    for raw, ref in (("&", "&amp;"), ("<", "&lt;"), ('"', "&quot;")):
        value = value.replace(raw, ref)
    return value.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")


def _escape_text(value: str) -> str:
    for raw, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        value = value.replace(raw, ref)
    return value


def _start_tag(name: str, attrs: list[str]) -> str:
    pairs = "".join(
        f' {attrs[i]}="{_escape_attribute(attrs[i + 1])}"' for i in range(0, len(attrs), 2)
    )
    return f"<{name}{pairs}>"


@dataclass
class _Item:
    """A cell (or shared string) being read: its XML kept for copying while it is short."""

    name: str
    attrs: list[str]
    pieces: list[str] | None
    size: int = 0
    chars: int = 0  # every text it holds (values and formulas)
    value: list[str] = field(default_factory=list)  # its value text, up to the limit + 1
    value_chars: int = 0
    stack: list[str] = field(default_factory=list)
    filled: bool = False
    formula: bool = False
    position: tuple[int, int] = (0, 0)  # worksheet cells: (row, column), 0-based
    ref: str = ""

    @property
    def prefix(self) -> str:
        return self.name[: self.name.index(":") + 1] if ":" in self.name else ""


class _Part:
    """Feeds expat and copies the part to `out` (when given) with long items cut."""

    ITEM = ""  # the local name of a cell or shared string
    VALUE_TAGS: frozenset[str] = frozenset()
    TEXT_TAGS: frozenset[str] = frozenset()

    def __init__(self, out: BinaryIO | None) -> None:
        self.out = out
        self.buffer: list[str] = []
        self.buffered = 0
        self.item: _Item | None = None
        self.events = 0
        self.depth = 0
        self.cut = 0
        self.where = ""
        parser = expat.ParserCreate()
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.XmlDeclHandler = self._declaration
        parser.StartDoctypeDeclHandler = self._doctype
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.parser = parser

    def feed(self, chunks: Iterable[bytes], where: str) -> None:
        self.where = where
        quiet = 0
        try:
            for chunk in chunks:
                for i in range(0, len(chunk), _PIECE):
                    before = self.events
                    piece = chunk[i : i + _PIECE]
                    self.parser.Parse(piece, False)
                    quiet = quiet + len(piece) if self.events == before else 0
                    if quiet > QUIET_BYTES:
                        raise ReelRecError(
                            f"{where}: one XML tag or comment runs past {QUIET_BYTES:,} bytes, "
                            "which no spreadsheet program writes"
                        )
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise ReelRecError(f"{where}: the XML is malformed ({exc})") from None
        self._flush(force=True)

    def _write(self, text: str) -> None:
        if self.out is not None:
            self.buffer.append(text)
            self.buffered += len(text)
            self._flush()

    def _flush(self, force: bool = False) -> None:
        if self.out is not None and (force or self.buffered > _FLUSH):
            self.out.write("".join(self.buffer).encode())
            self.buffer.clear()
            self.buffered = 0

    def _declaration(self, version: str, encoding: str | None, standalone: int) -> None:
        self._write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')

    def _doctype(self, *args: object) -> None:
        # Entities defined in a DTD can expand a few bytes into gigabytes.
        raise ReelRecError(f"{self.where}: a DTD, which spreadsheet programs never write")

    def _keep(self, item: _Item, text: str) -> None:
        """Buffer an item's XML while it is short enough to copy as it is."""
        if item.pieces is not None:
            item.pieces.append(text)
            item.size += len(text)
            if item.size > SPAN_BYTES:
                item.pieces = None

    def _start(self, name: str, attrs: list[str]) -> None:
        self.events += 1
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ReelRecError(f"{self.where}: XML nested over {MAX_DEPTH} elements deep")
        local = name.rpartition(":")[2]
        item = self.item
        if item is None:
            if local == self.ITEM:
                self.item = self._open(name, attrs)
                return
            self._start_outside(local, attrs)
            self._write(_start_tag(name, attrs))
            return
        item.stack.append(local)
        item.filled |= local == "is"
        item.formula |= local == "f"
        self._keep(item, _start_tag(name, attrs))

    def _end(self, name: str) -> None:
        self.events += 1
        self.depth -= 1
        item = self.item
        if item is None:
            self._write(f"</{name}>")
            self._end_outside(name)
            return
        if item.stack:
            item.stack.pop()
            self._keep(item, f"</{name}>")
            return
        self.item = None
        self._close(item)
        too_long = item.value_chars > MAX_CELL_CHARS or item.pieces is None
        self.cut += too_long
        if too_long:
            self._write(self._replacement(item))
        elif item.pieces is not None:
            self._write("".join([*item.pieces, f"</{name}>"]))

    def _text(self, data: str) -> None:
        self.events += 1
        item = self.item
        if item is None:
            self._write(_escape_text(data))
            return
        tag = item.stack[-1] if item.stack else ""
        if tag in self.TEXT_TAGS:
            item.chars += len(data)
            if tag in self.VALUE_TAGS and "rPh" not in item.stack:
                item.filled |= bool(data)
                room = MAX_CELL_CHARS + 1 - item.value_chars
                if room > 0:
                    item.value.append(data[:room])
                item.value_chars += len(data)
        if item.chars > MAX_CELL_CHARS:
            item.pieces = None
        if item.pieces is not None:
            self._keep(item, _escape_text(data))

    def _open(self, name: str, attrs: list[str]) -> _Item:
        return _Item(name, attrs, [_start_tag(name, attrs)])

    def _start_outside(self, local: str, attrs: list[str]) -> None:
        """A start tag outside any item (rows, for worksheets)."""

    def _end_outside(self, name: str) -> None:
        """An end tag outside any item."""

    def _close(self, item: _Item) -> None:
        """An item fully read."""

    def _replacement(self, item: _Item) -> str:
        raise NotImplementedError


class SharedStrings(_Part):
    """xl/sharedStrings.xml: each <si> is one string, its <t> texts joined (as calamine)."""

    ITEM = "si"
    VALUE_TAGS = TEXT_TAGS = frozenset({"t"})

    def __init__(self, out: BinaryIO | None) -> None:
        super().__init__(out)
        self.items = 0

    def _close(self, item: _Item) -> None:
        self.items += 1

    def _replacement(self, item: _Item) -> str:
        p = item.prefix
        return f"<{item.name}><{p}t>{_escape_text(''.join(item.value))}</{p}t></{item.name}>"


@dataclass
class Extent:
    """Where a sheet's cells that hold a value lie, 0-based, as calamine lays them out."""

    first_row: int
    last_row: int
    first_col: int
    last_col: int
    lowest: str  # a cell on the last row
    rightmost: str  # a cell in the last column


class Worksheet(_Part):
    """A worksheet: cell positions follow calamine (a cell's own reference, else the count
    along its row); a cell holds a value when it has inline text or a non-empty <v>."""

    ITEM = "c"
    VALUE_TAGS = frozenset({"v", "t"})
    TEXT_TAGS = frozenset({"v", "t", "f"})

    def __init__(self, out: BinaryIO | None) -> None:
        super().__init__(out)
        self.row = 0
        self.col = 0
        self.extent: Extent | None = None

    def _start_outside(self, local: str, attrs: list[str]) -> None:
        r = _attribute(attrs, "r")
        if local == "row" and r and r.isascii() and r.isdigit() and int(r) > 0:
            self.row = int(r) - 1

    def _end_outside(self, name: str) -> None:
        if name.rpartition(":")[2] == "row":
            self.row += 1
            self.col = 0

    def _open(self, name: str, attrs: list[str]) -> _Item:
        ref = _attribute(attrs, "r")
        position = _split_ref(ref) if ref else None
        if position is None:
            position = (self.row, self.col)
            ref = f"{column_letters(self.col)}{self.row + 1}"
        self.col = position[1]
        return _Item(name, attrs, [_start_tag(name, attrs)], position=position, ref=ref)

    def _close(self, item: _Item) -> None:
        (row, col), ref = item.position, item.ref
        self.col += 1
        if not item.filled:
            return
        e = self.extent
        if e is None:
            self.extent = Extent(row, row, col, col, ref, ref)
            return
        e.first_row, e.first_col = min(e.first_row, row), min(e.first_col, col)
        if row > e.last_row:
            e.last_row, e.lowest = row, ref
        if col > e.last_col:
            e.last_col, e.rightmost = col, ref

    def _replacement(self, item: _Item) -> str:
        p = item.prefix
        style = _attribute(item.attrs, "s")
        head = f'<{item.name} r="{item.ref}"'
        if style:
            head += f' s="{_escape_attribute(style)}"'
        if item.value_chars:
            text = _escape_text("".join(item.value))
            return f'{head} t="inlineStr"><{p}is><{p}t>{text}</{p}t></{p}is></{item.name}>'
        # Only a formula was long, with no value saved: keep it a formula without value.
        return f"{head}><{p}f></{p}f></{item.name}>" if item.formula else f"{head}></{item.name}>"
