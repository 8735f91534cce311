"""Content's and the hybrid's shortlist ranking (catalogue scale) against the exact ranking."""

from __future__ import annotations

import numpy as np
import pytest

from models_py.recommenders import BiasedMF, ranking, shortlist_rank
from models_py.recommenders.base import dense_top_n
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.covariate_adjusted import CovariateAdjusted
from models_py.recommenders.hybrid import HybridRecommender
from models_py.recommenders.item_knn import ItemKNN
from tests.test_content_rank import N_USERS, features, ratings
from tests.test_ranking import count_dense

N_ITEMS = 1_500


def hybrid(weight: float) -> HybridRecommender:
    return HybridRecommender(
        usage=CovariateAdjusted(
            BiasedMF(n_factors=2, n_iter=3), user_covariate=np.arange(N_USERS) % 3
        ),
        content=ContentRecommender(song_features=features(5, N_ITEMS)),
        weight=weight,
    ).fit(ratings(5, N_ITEMS))


def overlap(ids: np.ndarray, want: np.ndarray) -> float:
    """Share of the exact lists' songs that the lists hold."""
    hits = [len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(ids, want, strict=True)]
    return sum(hits) / max(int((want >= 0).sum()), 1)


def assert_valid_lists(model, users: np.ndarray, ids: np.ndarray, vals: np.ndarray) -> None:  # noqa: ANN001
    """Unused songs, no repeats, scores descending and equal to the model's own dense scores."""
    dense = model._score_block(users)
    for row, (got, score) in enumerate(zip(ids, vals, strict=True)):
        kept = got >= 0
        assert not set(got[kept]) & set(model.used_[users[row]].indices)
        assert len(set(got[kept])) == kept.sum()
        assert (np.diff(score[kept]) <= 0).all()
        np.testing.assert_allclose(score[kept], dense[row, got[kept]], rtol=1e-9, atol=1e-12)


def test_below_the_threshold_nothing_is_shortlisted() -> None:
    m = hybrid(0.5)
    assert m.n_users_ * m.n_items_ <= shortlist_rank.SHORTLIST_CELLS
    assert not shortlist_rank.at_scale(m) and not shortlist_rank.at_scale(m.content_)


def test_unsettled_content_users_keep_their_shortlist(monkeypatch: pytest.MonkeyPatch) -> None:
    """At scale a user the bound cannot settle is never ranked densely: their list is the top
    of the songs scored for them, which are the exact scores, and mostly the exact list."""
    m = ContentRecommender(song_features=features(4, N_ITEMS)).fit(ratings(4, N_ITEMS))
    users = np.arange(N_USERS)
    want_ids, _ = dense_top_n(m, users, 10, True)
    monkeypatch.setattr(ranking, "SLACK", 1e9)  # no bound is ever cleared
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_CELLS", 0)
    dense_rows = count_dense(monkeypatch, m)
    ids, vals = m.recommend(users, 10)
    # User 0 shares rare features with most songs (ranked densely as before); nobody else.
    assert sum(dense_rows) <= 1
    assert_valid_lists(m, users, ids, vals)
    assert 0.7 <= overlap(ids, want_ids) < 1.0


@pytest.mark.parametrize("weight", [0.25, 0.5, 0.75])
def test_hybrid_shortlists_of_every_song_give_the_exact_lists(
    weight: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every song in the common shortlist and the stats over every song, the shortlist
    path is the dense ranking: what it changes is only which songs it looks at."""
    m = hybrid(weight)
    users = np.arange(N_USERS)
    want_ids, want_vals = dense_top_n(m, users, 10, True)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_CELLS", 0)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_SONGS", N_ITEMS)
    assert shortlist_rank.stats_sample(N_ITEMS).size == N_ITEMS
    ids, vals = m.recommend(users, 10)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(vals, want_vals, rtol=1e-12)


def test_hybrid_shortlists_mostly_hold_the_exact_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    m = hybrid(0.5)
    users = np.arange(N_USERS)
    want_ids, _ = dense_top_n(m, users, 10, True)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_CELLS", 0)
    monkeypatch.setattr(shortlist_rank, "STATS_SAMPLE", 500)  # a third of the songs
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_SONGS", 300)  # a fifth
    ids, vals = m.recommend(users, 10)
    assert (ids >= 0).all()
    assert overlap(ids, want_ids) >= 0.9
    # Scores are the mix standardised over the sample: ordered, and their songs unused.
    for row in range(N_USERS):
        assert not set(ids[row]) & set(m.used_[row].indices)
        assert (np.diff(vals[row]) <= 0).all()


def test_hybrid_tuning_at_scale_ranks_each_weight_as_recommend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = hybrid(0.5)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_CELLS", 0)
    monkeypatch.setattr(shortlist_rank, "STATS_SAMPLE", 16)  # blocks of many users
    users = np.arange(N_USERS)
    grid = [{"weight": w} for w in (0.25, 1.0, 0.5, 0.0)]
    for params, (ids, vals) in zip(grid, m.recommend_each(users, 5, grid), strict=True):
        want_ids, want_vals = m.set_params(**params).recommend(users, 5)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(vals, want_vals)


def test_union_rows_keeps_each_song_once_sorted_by_code() -> None:
    own = np.array([[3, 1, -1], [2, 5, 9]])
    cand, column, valid = shortlist_rank.union_rows(np.array([1, 2, 7]), own)
    assert [list(c[v]) for c, v in zip(cand, valid, strict=True)] == [[1, 2, 3, 7], [1, 2, 5, 7, 9]]
    both = np.c_[np.broadcast_to([1, 2, 7], (2, 3)), own]
    assert (np.take_along_axis(both, column, axis=1) == cand).all()


def test_stats_sample_is_fixed_sorted_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shortlist_rank, "STATS_SAMPLE", 100)
    a, b = shortlist_rank.stats_sample(10_000), shortlist_rank.stats_sample(10_000)
    assert a.size == 100 and np.array_equal(a, b) and (np.diff(a) > 0).all()
    assert np.array_equal(shortlist_rank.stats_sample(50), np.arange(50))


def test_a_mix_whose_usage_has_no_per_song_order_is_ranked_densely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = HybridRecommender(
        usage=ItemKNN(n_neighbors=5),
        content=ContentRecommender(song_features=features(5, N_ITEMS)),
        weight=0.5,
    ).fit(ratings(5, N_ITEMS))
    users = np.arange(N_USERS)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_CELLS", 0)
    assert shortlist_rank.at_scale(m) and not m._shortlisted()
    ids, vals = m.recommend(users, 10)
    want_ids, want_vals = dense_top_n(m, users, 10, True)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(vals, want_vals)
    assert hybrid(0.5)._shortlisted()  # MF usage: shortlisted at this threshold
