"""One typed value parsed by the very macros staging runs on every cell, for the CLI: a
follower count typed as "50m", an influencer typed as "@Cristiano". The SQL is rendered
from dbt_project/macros and run in DuckDB on a bound parameter, so what a command accepts
is what ingestion accepts."""

from __future__ import annotations

import duckdb

from models_py.contract import render_macro

# The text as staging holds it (trimmed), one row; the typed value is never SQL text.
_TYPED = "(select trim(cast(? as varchar)) as x)"


def _row(sql: str, text: str, con: duckdb.DuckDBPyConnection | None) -> tuple:
    if con is not None:
        return con.execute(sql, [text]).fetchall()[0]
    # One value needs one thread; a pool of them would reserve memory for nothing.
    with duckdb.connect(config={"threads": 1}) as own:
        return own.execute(sql, [text]).fetchall()[0]


def parse_count(text: str) -> int | None:
    """A whole count as a file may write it ("50m", "1.2k", "157,186"); None for blanks and
    junk, fractions ("2.5") and counts past a 64-bit integer included."""
    count_sql = render_macro("parse_count('x')")
    (count,) = _row(f"select {count_sql} from {_TYPED}", text, None)
    return count


def influencer_key(
    text: str, con: duckdb.DuckDBPyConnection | None = None
) -> tuple[str | None, str | None]:
    """(influencer_id, handle) of a URL or handle as staging derives them: "cristiano",
    "@Cristiano" and "https://www.instagram.com/cristiano/" give the same pair."""
    canonical = render_macro("canonical_url('x')")
    handle = render_macro("instagram_handle('influencer_id')")
    sql = f"select influencer_id, {handle} from (select {canonical} as influencer_id from {_TYPED})"
    return _row(sql, text, con)
