"""Two runs on the same input give identical tables, whatever the thread count."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from tests.conftest import BUILT_VARS, Built

pytestmark = pytest.mark.slow

# Wall-clock timings are the only values allowed to differ between runs.
TIMING_COLUMNS = {"fit_seconds", "score_seconds", "serve_seconds"}


def table_checksums(path: Path) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows as text) for every table and view in every schema."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog') order by all"
        ).fetchall()
        sums = {}
        for schema, name in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if c not in TIMING_COLUMNS
            ]
            row = " || '|' || ".join(f"coalesce(cast(\"{c}\" as varchar), '∅')" for c in columns)
            sums[f"{schema}.{name}"] = con.execute(
                f"select count(*), md5(coalesce(string_agg(r, '\\n' order by r), '')) "
                f'from (select {row} as r from {schema}."{name}")'
            ).fetchall()[0]
    return sums


def test_same_input_same_tables_whatever_the_threads(built: Built, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    pipeline.run(
        built.data / "raw",
        again,
        dbt_vars=BUILT_VARS,
        generate_if_empty=False,
        threads=1,
        echo=lambda _: None,
    )
    first, second = table_checksums(built.warehouse), table_checksums(again)
    schemas = {name.split(".")[0] for name in first}
    assert schemas == {"raw", "staging", "intermediate", "main", "scores"}, schemas
    assert len(first) > 30 and first.keys() == second.keys()
    differing = sorted(name for name in first if first[name] != second.get(name))
    assert differing == [], differing
