"""ContentRecommender's ranker (content_rank) against the dense ranking it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from models_py.recommenders import BiasedMF, Ratings, ranking
from models_py.recommenders.base import dense_top_n
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.content_rank import ContentIndex, dot_rows, exclusive_groups, pair_sims
from models_py.recommenders.covariate_adjusted import CovariateAdjusted
from models_py.recommenders.hybrid import HybridRecommender, row_standardise
from tests.ranking_checks import assert_recommend_equals_dense

N_USERS = 40


def features(seed: int, n_items: int) -> sp.csr_matrix:
    """Like song_features: a decade-like one-hot block (common), a few frequent words, many
    rare artist/word columns; duplicated songs (exact ties) and songs with no feature."""
    rng = np.random.default_rng(seed)
    decade = sp.csr_matrix(np.eye(6)[rng.integers(0, 6, n_items)])
    words = sp.csr_matrix((rng.random((n_items, 5)) < 0.2) * rng.choice([0.5, 1.0], (n_items, 5)))
    artist = sp.csr_matrix(np.eye(n_items // 8)[rng.integers(0, n_items // 8, n_items)])
    rare = sp.random(n_items, 60, density=0.03, random_state=seed, data_rvs=lambda k: np.ones(k))
    x = sp.hstack([0.2 * words, 0.3 * rare, artist, 0.5 * decade], format="csr").toarray()
    x[1::7] = x[0::7][: x[1::7].shape[0]]  # duplicates: songs scoring exactly alike
    x[5] = 0.0
    return sp.csr_matrix(normalize(x))


def ratings(seed: int, n_items: int) -> Ratings:
    rng = np.random.default_rng(seed)
    mask = rng.random((N_USERS, n_items)) < 6 / n_items
    mask[0, : n_items // 2] = True  # shares rare features with most songs: dense
    mask[1] = False  # no profile
    user, item = np.nonzero(mask)
    return Ratings(user, item, rng.choice([-1.0, 0.0, 0.5, 1.0], user.size), N_USERS, n_items)


def model(seed: int, n_items: int, tied: bool) -> ContentRecommender:
    m = ContentRecommender(song_features=features(seed, n_items)).fit(ratings(seed, n_items))
    if tied:  # appeal on a few levels, no tie-break: many exactly tied scores
        m.appeal_ = np.round(m.appeal_ * 2) / 2
        m.popularity_tiebreak_ = np.zeros_like(m.popularity_tiebreak_)
    return m


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("n_items", [1_500, 200])
@pytest.mark.parametrize("seed", range(3))
def test_recommend_equals_the_dense_ranking(
    seed: int, n_items: int, tied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_ranking import count_dense

    m = model(seed, n_items, tied)
    dense_rows = count_dense(monkeypatch, m)
    rng = np.random.default_rng(seed)
    users = np.r_[np.arange(N_USERS), rng.integers(0, N_USERS, 10)]  # repeats too
    shelf = rng.random(n_items) < 0.3
    calls = 0
    for weight in (0.0, 0.5, 1.0, 2.0):
        m.appeal_weight = weight
        calls += assert_recommend_equals_dense(
            m,
            users,
            dense_top_n,
            (1, 3, 10, 300, n_items + 5),
            (None, shelf, np.ones(n_items, dtype=bool)),
        )
    if n_items > 1_000:  # the levels settle some users
        assert sum(dense_rows) < calls * users.size * 2 / 3


def test_users_left_unsettled_are_ranked_densely(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking, "SLACK", 1e9)  # no bound is ever cleared
    m = model(4, 1_500, True)
    users = np.arange(N_USERS)
    for n in (1, 10):
        ids, vals = m.recommend(users, n)
        want_ids, want_vals = dense_top_n(m, users, n, True)
        assert (ids == want_ids).all()
        np.testing.assert_array_equal(vals, want_vals)


def test_pair_sims_are_the_dense_products_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    x = sp.random(300, 40, density=0.2, random_state=1, format="csr")
    x.data = rng.random(x.nnz)
    x = x[:, rng.permutation(40)]  # unsorted indices within rows, as TF-IDF leaves them
    p = sp.random(20, 40, density=0.3, random_state=2, format="csr")
    dense = dot_rows(p, x)
    row, item = rng.integers(0, 20, 5_000), rng.integers(0, 300, 5_000)
    got = pair_sims(x, p.T.toarray(), row, item)
    assert np.array_equal(got, dense[row, item])


def test_exclusive_groups_never_hold_two_columns_of_one_song() -> None:
    x = features(0, 400)
    index = ContentIndex(x)
    groups = exclusive_groups(x[:, index.common])
    onehot = sp.csr_matrix((np.ones(groups.size), (np.arange(groups.size), groups)))
    per_song_group = (x[:, index.common] > 0).astype(float) @ onehot
    assert per_song_group.max() <= 1
    assert groups.max() < index.common.size - 1  # the decade block shares a group


def test_a_song_left_out_that_ties_the_bound_is_not_missed() -> None:
    """Songs 300-399 (left out of the first 256 by base) score exactly the bound, as much as
    the shared song 1000; the lowest code, 300, must win the tie."""
    n_items, rare, decade, other = 1_100, 0, 1, 2
    x = sp.lil_matrix((n_items, 3))
    x[:, other] = 1.0
    x[300:400, other], x[300:400, decade] = 0.0, 1.0
    for song in (0, 1_000):
        x[song, other], x[song, rare], x[song, decade] = 0.0, 0.5, 0.5
    m = ContentRecommender(song_features=sp.csr_matrix(x), appeal_weight=0.0)
    m.fit(Ratings(np.array([0]), np.array([0]), np.array([1.0]), 1, n_items))
    m.popularity_tiebreak_ = np.zeros(n_items)
    m.profiles_ = sp.csr_matrix(np.array([[0.5, 0.5, 0.0]]))
    m.index_ = ContentIndex(m.features_)
    for n in (1, 3):
        ids, vals = m.recommend(np.array([0]), n)
        want_ids, want_vals = dense_top_n(m, np.array([0]), n, True)
        assert (ids == want_ids).all() and ids[0, 0] == 300
        np.testing.assert_array_equal(vals, want_vals)


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_hybrid_ranks_like_its_dense_scores(weight: float) -> None:
    n_items = 1_500
    data = ratings(5, n_items)
    hybrid = HybridRecommender(
        usage=CovariateAdjusted(
            BiasedMF(n_factors=2, n_iter=3), user_covariate=np.arange(N_USERS) % 3
        ),
        content=ContentRecommender(song_features=features(5, n_items)),
        weight=weight,
    ).fit(data)
    users = np.arange(N_USERS)
    shelf = np.random.default_rng(5).random(n_items) < 0.3
    for n in (1, 10, n_items + 5):
        for exclude_used in (True, False):
            for candidates in (None, shelf):
                ids, vals = hybrid.recommend(users, n, exclude_used, candidates)
                want_ids, want_vals = dense_top_n(hybrid, users, n, exclude_used, candidates)
                assert (ids == want_ids).all()
                np.testing.assert_array_equal(vals, want_vals)


def test_row_standardise_of_finite_rows_is_the_nan_aware_result_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 2_000)) * rng.random(20)[:, None] * 100 + rng.normal(size=(20, 1))
    x[0] = 3.0  # constant row: zeros
    mean = np.nanmean(x, axis=1, keepdims=True)  # the nan-aware path, on the same cells
    sd = np.nanstd(x, axis=1, keepdims=True)
    fast = row_standardise(x)
    assert np.array_equal(fast, (x - mean) / np.where(sd > 0, sd, 1.0))
    assert (fast[0] == 0).all()
    x[1, 5] = -np.inf  # a row with an unavailable cell: the nan-aware path, that cell -inf
    out = row_standardise(x)
    assert out[1, 5] == -np.inf and np.isfinite(np.delete(out[1], 5)).all()


@pytest.mark.parametrize(("n_items", "n_features"), [(0, 3), (3, 4), (6, 1)])
def test_tiny_catalogues_rank_like_the_dense_path(n_items: int, n_features: int) -> None:
    x = sp.csr_matrix(np.random.default_rng(0).random((n_items, n_features)))
    used = np.array([0] * min(n_items, 1), dtype=np.int32)
    m = ContentRecommender(song_features=x).fit(Ratings(used, used, used * 1.0 + 1, 3, n_items))
    for n in (0, 1, 10):
        ids, vals = m.recommend(np.arange(3), n)
        want_ids, want_vals = dense_top_n(m, np.arange(3), n, True)
        assert (ids == want_ids).all()
        np.testing.assert_array_equal(vals, want_vals)
