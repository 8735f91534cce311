"""Render the project's dbt parsing macros to plain SQL so tests can run them in DuckDB."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import jinja2

MACROS = Path(__file__).resolve().parent.parent / "dbt_project" / "macros" / "parsing.sql"


@cache
def _template_source() -> str:
    return MACROS.read_text()


@cache
def render(call: str) -> str:
    """SQL for one macro call, e.g. render("parse_number('x')")."""
    return jinja2.Environment().from_string(_template_source() + "{{ " + call + " }}").render()


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def evaluate(call: str, values: list[str | None]) -> list[object]:
    """Apply a macro (written against column `x`) to each value, in order."""
    sql = f"select {render(call)} from unnest(?::varchar[]) with ordinality as t(x, i) order by i"
    return [row[0] for row in _connection().execute(sql, [values]).fetchall()]
