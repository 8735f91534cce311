"""The ranking-metric macro (the project's one definition) against hand-computed examples."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_py.recommenders.tuning import average_precision_at_k
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


def test_python_average_precision_agrees_with_the_macro() -> None:
    """Model tuning and the benchmarks rank in Python: their AP@k must be the macro's."""
    rng = np.random.default_rng(7)
    n_users, n_items, k = 40, 25, 5
    lists = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    lists[rng.random(lists.shape) < 0.2] = -1  # padding where a model had fewer songs
    # 0 to 12 relevant songs each, so min(k, |relevant|) is sometimes k and sometimes not.
    n_relevant = rng.integers(0, 13, size=n_users)
    relevant = np.concatenate(
        [u * n_items + rng.choice(n_items, n, replace=False) for u, n in enumerate(n_relevant)]
    )
    relevant = np.sort(relevant)

    ap = average_precision_at_k(lists, np.arange(n_users), relevant, n_items, n_relevant)

    user, rank = np.nonzero(lists >= 0)
    recs = pd.DataFrame(
        {"method": "m", "scenario": "warm", "influencer_id": user, "rank": rank + 1}
    ).assign(song_id=lists[user, rank])
    held_out = pd.DataFrame(
        {"scenario": "warm", "relevance": "used", "influencer_id": relevant // n_items}
    ).assign(song_id=relevant % n_items)
    con = duckdb.connect()
    con.register("recs", recs)
    con.register("relevant", held_out)
    con.register("influencers", pd.DataFrame({"influencer_id": np.arange(n_users)}))
    con.register("catalogue", pd.DataFrame({"song_id": np.arange(n_items)}))
    sql = render(f"ranking_metrics('recs', 'relevant', 'influencers', 'catalogue', {k})")
    metrics = con.execute(sql).df().set_index(["relevance", "metric"])

    assert (ap[n_relevant == 0] == 0).all() and (n_relevant == 0).any()
    # The draw has hits for users with fewer and with more relevant songs than k.
    assert (ap[(n_relevant > 0) & (n_relevant < k)] > 0).any()
    assert (ap[n_relevant > k] > 0).any()
    assert metrics.loc[("used", "map"), "value"] == pytest.approx(ap[n_relevant > 0].mean())


def test_rating_metrics_by_hand_count_influencers_not_ratings() -> None:
    """Errors average over held-out ratings; users_evaluated counts whose they are."""
    con = duckdb.connect()
    con.execute(
        """
        create table predictions as select * from (values
            ('m', 'a', 's1', 1.0), ('m', 'a', 's2', 4.0), ('m', 'b', 's1', 0.0),
            ('m', 'b', 's3', 9.0)  -- a training reel: not judged
        ) t(method, influencer_id, song_id, prediction);
        create table splits as select * from (values
            ('a', 's1', 'test', 2.0), ('a', 's2', 'test', 2.0), ('b', 's1', 'test', 0.0),
            ('b', 's3', 'train', 0.0), ('c', 's1', 'test', null)
        ) t(influencer_id, song_id, split, delta);
        """
    )
    sql = render("rating_metrics('predictions', 'splits')", run_id="r1")
    rating = con.execute(sql).df().set_index("metric")
    # Errors -1, 2, 0 over three held-out ratings of two influencers.
    assert rating.loc["rmse", "value"] == pytest.approx(math.sqrt(5 / 3))
    assert rating.loc["mae", "value"] == pytest.approx(1.0)
    assert (rating["users_evaluated"] == 2).all()
