"""Popularity recommenders and the shared evaluation, on the small generated warehouse."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_py.contract import DBT_PROJECT, project_var
from tests.conftest import Built
from tests.sql_macros import render

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


def test_every_influencer_gets_lists_from_every_method(built: Built) -> None:
    recs = query(
        built, "select influencer_id, method, count(*) as n from recommendations group by all"
    )
    n_influencers = query(built, "select count(*) as n from influencers")["n"][0]
    for method in METHODS:
        lists = recs[recs["method"] == method]
        assert len(lists) == n_influencers, method
        assert (lists["n"] == 10).mean() > 0.95, method


def first_unused_songs(
    rankings: pd.DataFrame, used: pd.DataFrame, influencers: pd.DataFrame, top_n: int
) -> pd.DataFrame:
    """The plain definition, row by row: each ranking's first top_n songs the influencer has
    not used (tier_count: the ranking of their tier)."""
    used_by = used.groupby("influencer_id")["song_id"].agg(set).to_dict()
    ordered = {
        key: group.sort_values("song_rank")["song_id"].tolist()
        for key, group in rankings.groupby(["method", "segment"])
    }
    expected = []
    for influencer, tier in zip(influencers["influencer_id"], influencers["tier"], strict=True):
        mine = used_by.get(influencer, set())
        for method in rankings["method"].unique():
            segment = tier if method == "tier_count" else "all"
            picks = [s for s in ordered.get((method, segment), []) if s not in mine][:top_n]
            expected += [(influencer, method, r, s) for r, s in enumerate(picks, start=1)]
    want = pd.DataFrame(expected, columns=["influencer_id", "method", "rank", "song_id"])
    return want.sort_values(["influencer_id", "method", "rank"]).reset_index(drop=True)


def sorted_lists(lists: pd.DataFrame) -> pd.DataFrame:
    return lists.sort_values(["influencer_id", "method", "rank"]).reset_index(drop=True)


def test_lists_are_each_rankings_first_unused_songs(built: Built) -> None:
    """The set-based SQL against the plain definition, for every influencer and method."""
    want = first_unused_songs(
        query(built, "select method, segment, song_id, song_rank from popularity_rankings"),
        query(built, "select influencer_id, song_id from reels"),
        query(built, "select influencer_id, tier from influencers"),
        int(project_var("top_n")),
    )
    got = query(
        built, "select influencer_id, method, rank, song_id from popularity_recommendations"
    )
    pd.testing.assert_frame_equal(sorted_lists(got), want, check_dtype=False)


def test_evaluation_lists_are_training_rankings_first_unused_songs_for_the_sample(
    built: Built,
) -> None:
    """What the metrics judge: lists from the training reels alone, for exactly the sampled
    influencers (dbt's tests check their shape, not which songs or whose lists)."""
    sampled = query(
        built,
        "select influencer_id, tier from influencers "
        "inner join evaluation_influencers using (influencer_id)",
    )
    assert 0 < len(sampled) < query(built, "select count(*) as n from influencers")["n"][0]
    want = first_unused_songs(
        query(
            built,
            "select method, segment, song_id, song_rank "
            "from intermediate.int_popularity_rankings__train",
        ),
        query(built, "select influencer_id, song_id from evaluation_splits where split = 'train'"),
        sampled,
        int(project_var("top_n")),
    )
    got = query(
        built,
        "select influencer_id, method, rank, song_id "
        "from intermediate.int_popularity_recommendations__train",
    )
    pd.testing.assert_frame_equal(sorted_lists(got), want, check_dtype=False)


def stated_plain_query(top_n: int) -> str:
    """The plain query recommend_from_rankings' header comment says it returns the same as."""
    source = (DBT_PROJECT / "macros" / "popularity.sql").read_text()
    header = source[: source.index("{% macro recommend_from_rankings")]
    stated = header[header.rindex("It returns what this plain query returns") :]
    stated = stated[stated.index("\n\n") : stated.index("That query ranks")]
    return stated.replace("top_n", str(top_n))


@pytest.mark.parametrize("seed", range(4))
def test_recommend_from_rankings_returns_its_stated_plain_query(seed: int) -> None:
    """Random rankings and usage, from none to most of the catalogue used, so lists keep
    their head, shift by a few places or by many, or run out."""
    rng = np.random.default_rng(seed)
    tiers = ["nano", "micro", "celebrity"]
    n_songs, n_influencers, top_n = 40, 60, 5
    rows = []
    for method, segments in [("count", ["all"]), ("trending", ["all"]), ("tier_count", tiers)]:
        for segment in segments:
            ranked = rng.permutation(n_songs)[: rng.integers(3, n_songs)]
            rows += [
                (method, segment, f"s{song}", float(rng.integers(0, 5)), rank)
                for rank, song in enumerate(ranked, start=1)
            ]
    density = rng.choice([0.0, 0.05, 0.3, 0.9], n_influencers)
    tables = {
        "rankings": pd.DataFrame(
            rows, columns=["method", "segment", "song_id", "score", "song_rank"]
        ),
        "influencers": pd.DataFrame(
            {
                "influencer_id": [f"u{i}" for i in range(n_influencers)],
                "tier": rng.choice(tiers, n_influencers),
            }
        ),
        "used": pd.DataFrame(
            [
                (f"u{i}", f"s{song}")
                for i in range(n_influencers)
                for song in np.flatnonzero(rng.random(n_songs) < density[i])
            ],
            columns=["influencer_id", "song_id"],
        ),
    }
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"{name}_frame", frame)
        con.execute(f"create table {name} as select * from {name}_frame")
    macro = render(
        "recommend_from_rankings('main.rankings', 'main.used', 'main.influencers')",
        top_n=top_n,
    )
    got = sorted_lists(con.execute(macro).df())
    want = sorted_lists(con.execute(stated_plain_query(top_n)).df())
    assert len(want) > 0 and (want.groupby(["influencer_id", "method"]).size() < top_n).any()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
