"""Popularity recommenders and the shared evaluation, on the small generated warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tests.conftest import Built

pytestmark = pytest.mark.slow

METHODS = {
    "celebrity_sorted",
    "celebrity_count",
    "count",
    "more_performing",
    "tier_count",
    "trending",
}


def query(built: Built, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def test_metrics_table_has_every_method_metric_and_relevance(built: Built) -> None:
    metrics = query(built, "select * from model_metrics where family = 'popularity'")
    assert set(metrics["method"]) == METHODS
    per_method = metrics.groupby("method").apply(
        lambda g: set(zip(g["metric"], g["relevance"], strict=True)), include_groups=False
    )
    expected = {(m, r) for m in ("map", "precision", "recall", "ndcg") for r in ("used", "lifted")}
    assert all(pairs == expected | {("coverage", "any")} for pairs in per_method)
    n_influencers = query(built, "select count(*) as n from influencers")["n"][0]
    assert ((metrics["users_evaluated"] + metrics["users_skipped"]) == n_influencers).all()
    assert metrics["value"].between(0, 1).all()
    assert metrics["run_id"].nunique() == 1 and metrics["run_id"][0] != "adhoc"


def test_evaluation_rankings_see_only_training_reels(built: Built) -> None:
    splits = query(built, "select * from evaluation_splits")
    assert 0.20 < (splits["split"] == "test").mean() < 0.30
    expected = splits[splits["split"] == "train"].groupby("song_id")["influencer_id"].nunique()
    ranked = query(
        built,
        "select song_id, score from intermediate.int_popularity_rankings__train "
        "where method = 'count'",
    ).set_index("song_id")["score"]
    assert len(ranked) > 0
    assert (ranked == expected.reindex(ranked.index)).all()


def test_evaluation_lists_never_contain_training_songs(built: Built) -> None:
    leaked = query(
        built,
        """
        select count(*) as n
        from intermediate.int_popularity_recommendations__train as recs
        inner join evaluation_splits as s
            on recs.influencer_id = s.influencer_id and recs.song_id = s.song_id
        where s.split = 'train'
        """,
    )["n"][0]
    assert leaked == 0


def test_every_influencer_gets_lists_from_every_method(built: Built) -> None:
    recs = query(
        built, "select influencer_id, method, count(*) as n from recommendations group by all"
    )
    n_influencers = query(built, "select count(*) as n from influencers")["n"][0]
    for method in METHODS:
        lists = recs[recs["method"] == method]
        assert len(lists) == n_influencers, method
        assert (lists["n"] == 10).mean() > 0.95, method
