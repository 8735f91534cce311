"""What a report section is made of (tables, figures) and how values read in a table cell."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass
class Figure:
    src: str  # a data: URI; "" when there was nothing to plot
    alt: str
    missing: str = ""  # shown in the chart's place instead: why there is nothing to plot


def no_data(alt: str, what: str) -> Figure:
    """The place of a chart whose data the input lacked, saying so."""
    return Figure(
        "",
        alt,
        f"No {what} in this warehouse: the input had no such column, or every cell was "
        "blank. Nothing to plot.",
    )


@dataclass
class Section:
    id: str
    title: str
    intro: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)
    wide_tables: bool = False  # one table per row (long text columns)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def table(frame: pd.DataFrame, columns: dict[str, str] | None = None) -> Table:
    """A DataFrame as display strings; `columns` picks and renames (source → header)."""
    columns = columns or {c: c for c in frame.columns}
    picked = frame[list(columns)]
    numeric = [pd.api.types.is_numeric_dtype(picked[c]) for c in columns]
    rows = [[_cell(v) for v in row] for row in picked.astype(object).itertuples(index=False)]
    return Table(list(columns.values()), rows, numeric)
