"""Render the project's dbt parsing macros to plain SQL so tests can run them in DuckDB."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import jinja2

MACROS = Path(__file__).resolve().parent.parent / "dbt_project" / "macros"


@cache
def _template_source() -> str:
    return "".join(p.read_text() for p in sorted(MACROS.glob("*.sql")))


@cache
def render(call: str, **dbt_vars: object) -> str:
    """SQL for one macro call, e.g. render("parse_number('x')"); var() reads `dbt_vars`."""
    template = jinja2.Environment().from_string(_template_source() + "{{ " + call + " }}")
    return template.render(var=lambda name, default=None: dbt_vars.get(name, default))


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def evaluate(call: str, values: list[str | None]) -> list[object]:
    """Apply a macro (written against column `x`) to each value, in order."""
    sql = f"select {render(call)} from unnest(?::varchar[]) with ordinality as t(x, i) order by i"
    return [row[0] for row in _connection().execute(sql, [values]).fetchall()]
