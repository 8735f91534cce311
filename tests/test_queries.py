"""The ready queries in docs/queries.sql run on a built warehouse and answer what they say:
the columns an analyst builds on, rows, and figures that agree with the marts."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import Built

pytestmark = pytest.mark.slow

QUERIES = Path(__file__).resolve().parent.parent / "docs" / "queries.sql"


def named_queries() -> dict[str, str]:
    parts = re.split(r"^-- name: (\w+)\n", QUERIES.read_text(), flags=re.M)
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2], strict=True)}


# The columns each query returns, in order: what an analyst's sheet or BI chart is built on.
COLUMNS = {
    "influencer_top_10_by_method": ["method", "rank", "title", "artist_name", "score", "reason"],
    "celebrity_songs_this_month": ["title", "artist_name", "celebrities", "reels"],
    "songs_that_lift_micro_influencers": [
        "title",
        "artist_name",
        "micro_influencers",
        "mean_lift",
        "share_lifted",
    ],
    "how_methods_compare": [
        "method",
        "family",
        "rmse",
        "map_used",
        "map_lifted",
        "ndcg_lifted",
        "coverage",
    ],
    "similar_songs": ["neighbour_rank", "neighbour_title", "neighbour_artist_name", "similarity"],
    "cold_start_metrics": ["scenario", "method", "recall_used", "map_used", "map_lifted"],
    "rejected_rows_by_rule": ["source_file", "rejection_rule", "rows"],
}


def run_query(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    sql = named_queries()[name].rstrip(";")
    if name == "influencer_top_10_by_method":  # the README's handle is in the default data
        handle = con.execute("select handle from influencers order by handle limit 1").fetchall()
        return con.execute(sql.replace("'desi_trends'", "?"), [handle[0][0]]).df()
    return con.execute(sql).df()


@pytest.fixture(scope="module")
def answers(built: Built) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return {name: run_query(con, name) for name in named_queries()}


def test_every_query_in_the_file_is_checked() -> None:
    assert sorted(named_queries()) == sorted(COLUMNS)


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_query_returns_rows_with_its_columns(answers: dict[str, pd.DataFrame], name: str) -> None:
    answer = answers[name]
    assert list(answer.columns) == COLUMNS[name]
    assert len(answer) > 0, name


def test_answers_agree_with_the_marts(built: Built, answers: dict[str, pd.DataFrame]) -> None:
    """Each query answers what its comment says, checked against the marts directly."""
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        quarantined = con.execute("select count(*) from quarantined_reels").fetchall()[0][0]
        warm = {m for (m,) in con.execute("select distinct method from model_metrics "
                                          "where scenario = 'warm'").fetchall()}  # fmt: skip
    assert answers["rejected_rows_by_rule"]["rows"].sum() == quarantined
    assert set(answers["how_methods_compare"]["method"]) == warm
    assert set(answers["cold_start_metrics"]["scenario"]) == {"cold_song", "cold_influencer"}
    picks = answers["influencer_top_10_by_method"]
    for method, ranks in picks.groupby("method")["rank"]:
        assert list(ranks) == list(range(1, len(ranks) + 1)) and len(ranks) <= 10, method
    assert picks["reason"].str.len().gt(0).all()
    neighbours = answers["similar_songs"]["neighbour_rank"]
    assert list(neighbours) == list(range(1, len(neighbours) + 1)) and len(neighbours) <= 20
    celebrities = answers["celebrity_songs_this_month"]["celebrities"]
    assert celebrities.is_monotonic_decreasing and len(celebrities) <= 20
    lifts = answers["songs_that_lift_micro_influencers"]
    assert (lifts["micro_influencers"] >= 5).all() and lifts["mean_lift"].is_monotonic_decreasing


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
