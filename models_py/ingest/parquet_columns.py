"""A parquet file's top-level columns and how each becomes text for raw.reels.

Only top-level columns are matched to ReelRec's: a struct or list holding a field named URL is
not the URL column, so a nested column whose own name matches is refused by name, and other
nested columns are ignored like any unknown column. Durations become days: pyarrow stores a
`timedelta` column as integers of its unit (3 days is 259,200,000,000 microseconds), which read
as a number would be that many days.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from models_py.errors import ReelRecError
from models_py.ingest.columns import HeaderMatch

_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
_NESTED = ("STRUCT", "MAP", "UNION")


@dataclass(frozen=True)
class ParquetColumn:
    name: str
    type: str  # as DuckDB reads it: BIGINT, VARCHAR[], STRUCT(...), INTERVAL...
    duration_unit: str | None = None  # s, ms, us or ns when the Arrow schema says duration

    @property
    def is_nested(self) -> bool:
        return self.type.startswith(_NESTED) or self.type.endswith("]")  # LIST x[], ARRAY x[n]

    def as_text(self) -> str:
        """SQL for the column as text, durations and intervals in days."""
        quoted = '"' + self.name.replace('"', '""') + '"'
        if self.duration_unit:
            return f"cast({quoted} / {_PER_DAY[self.duration_unit]} as varchar)"
        if self.type == "INTERVAL":
            return f"cast(epoch({quoted}) / 86400 as varchar)"
        return f"cast({quoted} as varchar)"


def parquet_columns(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> list[ParquetColumn]:
    try:
        described = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        arrow = pq.read_schema(path)
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        raise ReelRecError(f"{name}: cannot read as parquet ({exc})") from None
    # DuckDB reads an Arrow duration as its plain integers; the file's Arrow schema knows.
    durations = {f.name: f.type.unit for f in arrow if pa.types.is_duration(f.type)}
    return [ParquetColumn(col, str(kind), durations.get(col)) for col, kind, *_ in described]


def refuse_nested(columns: list[ParquetColumn], match: HeaderMatch, name: str) -> None:
    """A matched column must hold values, not a struct or list of them."""
    for position in match.positions.values():
        column = columns[position]
        if column.is_nested:
            raise ReelRecError(
                f"{name}: column '{column.name}' is nested ({column.type}); ReelRec reads only "
                "flat columns (text, numbers, durations): flatten it before loading"
            )


def nested_note(columns: list[ParquetColumn]) -> str:
    """For a missing-column message: the nested columns, which are never searched."""
    nested = [c.name for c in columns if c.is_nested]
    return f"; nested columns are not read: {', '.join(nested)}" if nested else ""
