"""Cells calamine reads as empty though they hold something: formulas with no saved value
(their rows are quarantined as formula_without_value) and error values such as #VALUE! (their
text is put back)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from models_py.ingest.columns import HeaderMatch
from models_py.ingest.xlsx_exact import column_index
from models_py.ingest.xlsx_scan import segments
from models_py.ingest.xlsx_zip import member_chunks, xml_members

_CELL_REF = re.compile(rb"<c r=\"([A-Z]+)(\d+)\"([^>]*?)(?:/>|>(.*?)</c>)", re.S)


@dataclass(frozen=True)
class LostCells:
    """Cells the reader cannot return as written, in one sheet, and where its data starts."""

    cells: list[tuple[str, int]]  # formulas with no saved value: (column letters, row)
    errors: list[tuple[str, int, str]]  # error values such as #VALUE!: (letters, row, text)
    first_column: int  # 0-based index of the leftmost column holding a value


_HAS_VALUE = re.compile(rb"<v(?:\s[^>/]*)?>|<is>")
_VALUE_TEXT = re.compile(rb"<v(?:\s[^>/]*)?>([^<]*)</v>")


def lost_cells(path: Path, where: str, sheets: dict[str, str]) -> dict[str, LostCells]:
    """Per sheet that has any: formula cells with no cached value, and error cells.

    The reader returns both as empty, so the value would vanish unnoticed: a formula's is
    lost (its rows are quarantined), an error's text (#VALUE!, #N/A…) is put back. `sheets`
    maps the sheets that may hold either (xlsx_scan found "<f" or an error type) to their
    XML, which is streamed here segment by segment, each ending after a whole cell.
    """
    lost: dict[str, LostCells] = {}
    members = {name.lower(): m for name, m in xml_members(path, where).items()}
    with path.open("rb") as fh:
        for name, xml_path in sheets.items():
            cells: list[tuple[str, int]] = []
            errors: list[tuple[str, int, str]] = []
            first_column = 1 << 20
            chunks = member_chunks(fh, members[xml_path.lower()], where)
            for data, stop in segments(chunks, b"</c>"):
                for m in _CELL_REF.finditer(data, 0, stop):
                    letters, row, attributes, inner = (
                        m.group(1).decode(),
                        int(m.group(2)),
                        m.group(3),
                        m.group(4) or b"",
                    )
                    if _HAS_VALUE.search(inner):
                        first_column = min(first_column, column_index(letters))
                        if b't="e"' in attributes and (text := _VALUE_TEXT.search(inner)):
                            errors.append((letters, row, html.unescape(text.group(1).decode())))
                    elif b"<f" in inner:
                        cells.append((letters, row))
            if cells or errors:
                lost[name] = LostCells(cells, errors, first_column if first_column < 1 << 20 else 0)
    return lost


def attach_lost_cells(
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
            col = by_pos.get(column_index(letters) - lost.first_column)
            if col is not None and row in index_of:
                per_row.setdefault(row, []).append(col)
                refs.append(f"{col}@{letters}{row}")
        patches: dict[str, dict[int, str]] = {}
        for letters, row, text in lost.errors:
            col = by_pos.get(column_index(letters) - lost.first_column)
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
