"""The data contract as the dbt project defines it, read once for the Python side.

Columns and cleaning rules live in `dbt_project/macros/contract.sql`, thresholds and other
settings in the vars of `dbt_project.yml`. Python renders the one and parses the other rather
than keeping copies, so the generator, the loader and the tests cannot drift from the SQL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
CONTRACT_MACROS = DBT_PROJECT / "macros" / "contract.sql"


class _Returned(Exception):
    """dbt's `return()` inside a macro, raised to hand the value out of the template."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _return(value: Any) -> None:
    raise _Returned(value)


@cache
def macro_value(name: str) -> Any:
    """The value a contract macro returns, e.g. macro_value("cleaning_rules")."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["return"] = _return
    template = env.from_string(CONTRACT_MACROS.read_text() + "{{ " + name + "() }}")
    try:
        template.render()
    except _Returned as returned:
        return returned.value
    raise ValueError(f"macro {name}() in {CONTRACT_MACROS} returns nothing")


class _DuckDBAdapter:
    """dbt's `adapter` as far as the macros use it, for DuckDB: dispatch picks the
    `default__` implementation (macros/engine.sql), as dbt does on DuckDB."""

    def __init__(self) -> None:
        self.macros: Any = None  # the rendered module, set once it exists

    def dispatch(self, name: str) -> Any:
        for prefix in ("duckdb__", "default__"):
            found = getattr(self.macros, prefix + name, None)
            if found is not None:
                return found
        raise ValueError(f"no DuckDB implementation of macro {name}")

    @staticmethod
    def quote(identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'


@cache
def render_macro(call: str, **dbt_vars: object) -> str:
    """The SQL of one macro call over every macro of the project, as dbt renders it on
    DuckDB, e.g. render_macro("parse_count('x')"), so Python parses a value exactly as dbt
    does; var() reads `dbt_vars`."""
    import re

    import jinja2

    source = "".join(p.read_text() for p in sorted(CONTRACT_MACROS.parent.glob("*.sql")))
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals["return"] = lambda value: value  # a macro's output is its return value
    adapter = _DuckDBAdapter()
    context = {
        "var": lambda name, default=None: dbt_vars.get(name, default),
        "adapter": adapter,
        "modules": type("modules", (), {"re": re}),
    }
    adapter.macros = env.from_string(source).make_module(context)
    return env.from_string("{{ " + call + " }}").render(**context, **_macros(adapter.macros))


def _macros(module: Any) -> dict[str, Any]:
    return {name: getattr(module, name) for name in dir(module) if not name.startswith("_")}


@cache
def project_vars() -> dict[str, Any]:
    """The vars' defaults as set in dbt_project.yml (the one place defaults live)."""
    import yaml

    return yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]


def project_var(name: str) -> Any:
    return project_vars()[name]


RAW_COLUMNS: tuple[str, ...] = tuple(macro_value("raw_columns"))
REQUIRED_COLUMNS: tuple[str, ...] = tuple(macro_value("required_columns"))
CLEANING_RULES: tuple[str, ...] = tuple(macro_value("cleaning_rules"))
MAX_CELL_CHARS: int = macro_value("max_cell_chars")
