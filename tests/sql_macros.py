"""Run the project's dbt macros (rendered to plain SQL by the contract) in DuckDB."""

from __future__ import annotations

from functools import cache

import duckdb

from models_py.contract import render_macro as render

__all__ = ["evaluate", "render"]


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def evaluate(call: str, values: list[str | None]) -> list[object]:
    """Apply a macro (written against column `x`) to each value, in order."""
    sql = f"select {render(call)} from unnest(?::varchar[]) with ordinality as t(x, i) order by i"
    return [row[0] for row in _connection().execute(sql, [values]).fetchall()]
