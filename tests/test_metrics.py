"""The ranking-metric macro (the project's one definition) against hand-computed examples."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from tests.sql_macros import render

K = 3


@pytest.fixture()
def metrics() -> pd.DataFrame:
    """Three influencers with relevant held-out songs (a, b, c) and one without (d)."""
    con = duckdb.connect()
    con.execute(
        """
        create table recs as select * from (values
            ('m', 'warm', 'a', 1, 'x1'), ('m', 'warm', 'a', 2, 'x2'), ('m', 'warm', 'a', 3, 'x3'),
            ('m', 'warm', 'a', 4, 'x4'),
            ('m', 'warm', 'b', 1, 'y1'), ('m', 'warm', 'b', 2, 'y2'), ('m', 'warm', 'b', 3, 'y3')
        ) t(method, scenario, influencer_id, rank, song_id);
        create table relevant as select * from (values
            ('warm', 'used', 'a', 'x2'), ('warm', 'used', 'a', 'x4'),
            ('warm', 'lifted', 'a', 'x4'),
            ('warm', 'used', 'b', 'y1'), ('warm', 'used', 'b', 'y3'),
            ('warm', 'used', 'c', 'z1'),
            -- Another scenario's held-out songs never count for a warm list.
            ('cold_song', 'used', 'a', 'x1'), ('cold_song', 'used', 'b', 'y2')
        ) t(scenario, relevance, influencer_id, song_id);
        create table influencers as
            select * from (values ('a'), ('b'), ('c'), ('d')) t(influencer_id);
        create table catalogue as select 's' || i as song_id from range(10) t(i);
        """
    )
    sql = render(
        f"ranking_metrics('recs', 'relevant', 'influencers', 'catalogue', {K})", run_id="r1"
    )
    return con.execute(sql).df().set_index(["relevance", "metric"])


def test_used_relevance_by_hand(metrics: pd.DataFrame) -> None:
    used = metrics.loc["used"]
    log2_3 = math.log2(3)
    # a: hit x2 at rank 2 (x4 at rank 4 is beyond k); b: hits at ranks 1 and 3; c: no list.
    ap = {"a": (1 / 2) / 2, "b": (1 / 1 + 2 / 3) / 2, "c": 0.0}
    ndcg = {
        "a": (1 / log2_3) / (1 + 1 / log2_3),
        "b": (1 + 1 / 2) / (1 + 1 / log2_3),
        "c": 0.0,
    }
    assert used.loc["map", "value"] == pytest.approx(sum(ap.values()) / 3)
    assert used.loc["precision", "value"] == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)
    assert used.loc["recall", "value"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert used.loc["ndcg", "value"] == pytest.approx(sum(ndcg.values()) / 3)
    assert (used["users_evaluated"] == 3).all()
    assert (used["users_skipped"] == 1).all()


def test_lifted_relevance_counts_only_lifted_songs(metrics: pd.DataFrame) -> None:
    lifted = metrics.loc["lifted"]
    # Only a has a lifted held-out song (x4), recommended at rank 4 > k: no hit.
    assert (lifted["value"] == 0).all()
    assert (lifted["users_evaluated"] == 1).all()
    assert (lifted["users_skipped"] == 3).all()


def test_coverage_is_distinct_songs_over_catalogue(metrics: pd.DataFrame) -> None:
    coverage = metrics.loc[("any", "coverage")]
    assert coverage["value"] == pytest.approx(6 / 10)  # x1-x3, y1-y3 within k
    assert coverage["users_evaluated"] == 2
    assert (metrics["run_id"] == "r1").all() and (metrics["k"] == K).all()
