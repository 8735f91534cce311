"""Popularity recommenders and the shared evaluation, on the small generated warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from models_py.contract import project_var
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


def test_lists_are_each_rankings_first_unused_songs(built: Built) -> None:
    """The set-based SQL against the plain definition, for every influencer and method."""
    rankings = query(built, "select method, segment, song_id, song_rank from popularity_rankings")
    used = query(built, "select influencer_id, song_id from reels")
    tiers = query(built, "select influencer_id, tier from influencers")
    got = query(
        built, "select influencer_id, method, rank, song_id from popularity_recommendations"
    )
    top_n = int(project_var("top_n"))
    used_by = used.groupby("influencer_id")["song_id"].agg(set).to_dict()
    ordered = {
        key: group.sort_values("song_rank")["song_id"].tolist()
        for key, group in rankings.groupby(["method", "segment"])
    }
    expected = []
    for influencer, tier in zip(tiers["influencer_id"], tiers["tier"], strict=True):
        mine = used_by.get(influencer, set())
        for method in rankings["method"].unique():
            segment = tier if method == "tier_count" else "all"
            picks = [s for s in ordered.get((method, segment), []) if s not in mine][:top_n]
            expected += [(influencer, method, r, s) for r, s in enumerate(picks, start=1)]
    want = pd.DataFrame(expected, columns=["influencer_id", "method", "rank", "song_id"])
    key = ["influencer_id", "method", "rank"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
