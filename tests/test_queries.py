"""The ready queries in docs/queries.sql run on a built warehouse and return rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Built

pytestmark = pytest.mark.slow

QUERIES = Path(__file__).resolve().parent.parent / "docs" / "queries.sql"


def named_queries() -> dict[str, str]:
    parts = re.split(r"^-- name: (\w+)\n", QUERIES.read_text(), flags=re.M)
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2], strict=True)}


def test_there_are_queries() -> None:
    assert len(named_queries()) >= 6


@pytest.mark.parametrize("name", sorted(named_queries()))
def test_query_runs_and_returns_rows(built: Built, name: str) -> None:
    sql = named_queries()[name]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        if name == "influencer_top_10_by_method":  # the README's handle is in the default data
            handle = con.execute("select handle from influencers limit 1").fetchall()[0][0]
            rows = con.execute(sql.replace("'desi_trends'", "?"), [handle]).fetchall()
        else:
            rows = con.execute(sql.rstrip(";")).fetchall()
    assert rows, name


def test_the_recommendations_view_adds_and_drops_no_row(built: Built) -> None:
    """`recommendations` is a view over the tested lists: exactly their rows, each with a
    reason; one influencer's lookup equals their slice of the whole."""
    keys = "influencer_id, method, rank, song_id"
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        view = con.execute(f"select {keys}, reason from main.recommendations order by all").df()
        lists = con.execute(
            f"select {keys} from main.popularity_recommendations union all "
            f"select {keys} from scores.recommendations order by all"
        ).df()
        one = view["influencer_id"].iloc[len(view) // 2]
        looked_up = con.execute(
            f"select {keys}, reason from main.recommendations where influencer_id = ? order by all",
            [one],
        ).df()
    assert len(lists) > 0 and view[keys.split(", ")].equals(lists)
    assert view["reason"].notna().all() and (view["reason"].str.len() > 0).all()
    expected = view[view["influencer_id"] == one].reset_index(drop=True)
    assert looked_up.equals(expected)
