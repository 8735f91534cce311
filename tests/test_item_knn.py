"""ItemKNN: its stored neighbours against sklearn's brute-force cosine, its predictions and
rankings against their definitions, the candidate shelf and users with no songs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics.pairwise import cosine_similarity

from models_py.recommenders import ItemKNN, Ratings, item_knn
from tests.dense_refs import N_ITEMS, N_USERS, brute_ranking, dense, predict_all, small_matrix


def test_item_knn_neighbours_are_sklearn_brute_force_cosine() -> None:
    ratings, mask = small_matrix(4)
    k = 6
    model = ItemKNN(n_neighbors=k).fit(ratings)
    sim = cosine_similarity(dense(ratings).T)  # items x items, 0 for the unrated item
    np.fill_diagonal(sim, -np.inf)
    assert model.neighbors_.shape == model.similarities_.shape == (N_ITEMS, k)
    assert model.neighbors_.dtype == np.int32
    assert (model.neighbors_ != np.arange(N_ITEMS)[:, None]).all()  # never its own neighbour
    assert (np.abs(model.similarities_) <= 1 + 1e-12).all()
    rows = np.arange(N_ITEMS)[:, None]
    np.testing.assert_allclose(model.similarities_, sim[rows, model.neighbors_], atol=1e-12)
    # the stored ones are the k largest (compared as values: items with no co-raters tie at 0)
    np.testing.assert_allclose(model.similarities_, -np.sort(-sim, axis=1)[:, :k], atol=1e-12)
    assert (np.diff(model.similarities_, axis=1) <= 1e-12).all()
    ids, sims = model.similar_items(np.array([0, 4]), k + 2)
    assert (ids[:, :k] == model.neighbors_[[0, 4]]).all() and (ids[:, k:] == -1).all()
    assert np.isnan(sims[:, k:]).all()


@pytest.mark.parametrize("seed", range(6))
def test_item_knn_sparse_top_k_finds_sklearns_brute_force_neighbours(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same similarity at every rank as sklearn's brute-force cosine kneighbors (which the sparse
    top-k replaced), across blocks, with negative cosines, zero rows and rows short of k
    co-rated songs; ties by lowest code."""
    from sklearn.neighbors import NearestNeighbors

    monkeypatch.setattr(item_knn, "ITEM_BLOCK", 5)
    rng = np.random.default_rng(seed)
    n_items, n_users = 40, 25
    x = np.where(rng.random((n_items, n_users)) < 0.08, rng.normal(size=(n_items, n_users)), 0.0)
    x[3] = 0.0  # a song nobody used
    x[7, :] = 0.0
    x[7, 0] = -1.0  # one negative rating: negative cosines with songs rated positive by user 0
    k = 12
    ids, sims = item_knn.cosine_top_k(sp.csr_matrix(x), k)
    dist, _ = (
        NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute")
        .fit(sp.csr_matrix(x))
        .kneighbors()
    )
    np.testing.assert_allclose(sims, 1.0 - dist, atol=1e-12)
    full = cosine_similarity(x)
    assert (ids != np.arange(n_items)[:, None]).all() and (ids >= 0).all()
    np.testing.assert_allclose(sims, full[np.arange(n_items)[:, None], ids], atol=1e-12)
    for row in range(n_items):  # equal similarities listed by ascending code
        for a in range(k - 1):
            if sims[row, a] == sims[row, a + 1]:
                assert ids[row, a] < ids[row, a + 1]


def test_item_knn_predict_and_recommend_follow_their_definitions() -> None:
    ratings, mask = small_matrix(5)
    model = ItemKNN(n_neighbors=5).fit(ratings)
    x = dense(ratings)
    w = np.zeros((N_ITEMS, N_ITEMS))
    np.put_along_axis(w, model.neighbors_.astype(int), model.similarities_, axis=1)
    user_mean = np.array(
        [x[u, mask[u]].mean() if mask[u].any() else x[mask].mean() for u in range(N_USERS)]
    )
    expected = np.empty((N_USERS, N_ITEMS))
    for u in range(N_USERS):
        for i in range(N_ITEMS):
            s = w[i] * mask[u]
            den = np.abs(s).sum()
            expected[u, i] = (s * x[u]).sum() / den if den > 0 else user_mean[u]
    np.testing.assert_allclose(predict_all(model, ratings), expected, atol=1e-12)
    ids, vals = model.recommend(np.arange(N_USERS), 8)
    counts = mask.sum(axis=0)
    tiebreak = 1e-6 * counts / (counts.max() + 1.0)  # popularity, below any similarity step
    ref_ids, ref_vals = brute_ranking(mask.astype(float) @ w + tiebreak, mask, 8)
    np.testing.assert_allclose(vals, ref_vals, atol=1e-12)
    assert (ids == ref_ids).all()


def test_item_knn_ranks_only_candidates_when_given_a_shelf() -> None:
    """The sparse ranking path and the candidate shelf (cold-song evaluation) agree."""
    ratings, mask = small_matrix(5)
    model = ItemKNN(n_neighbors=5).fit(ratings)
    shelf = np.zeros(N_ITEMS, dtype=bool)
    shelf[::3] = True
    ids, vals = model.recommend(np.arange(N_USERS), 4, candidates=shelf)
    full_ids, _ = model.recommend(np.arange(N_USERS), N_ITEMS)
    for u in range(N_USERS):
        expected = [i for i in full_ids[u] if i >= 0 and shelf[i]][:4]
        assert list(ids[u][ids[u] >= 0]) == expected


def test_item_knn_gives_a_user_with_no_songs_the_most_used_ones() -> None:
    ratings, mask = small_matrix(5)
    cold = int(np.flatnonzero(~mask.any(axis=1))[0]) if (~mask.any(axis=1)).any() else None
    if cold is None:  # make one: drop every rating of user 0
        keep = ratings.user != 0
        ratings = Ratings(
            ratings.user[keep], ratings.item[keep], ratings.rating[keep], N_USERS, N_ITEMS
        )
        mask[0] = False
        cold = 0
    model = ItemKNN(n_neighbors=5).fit(ratings)
    ids, _ = model.recommend(np.array([cold]), 3)
    counts = mask.sum(axis=0)
    expected = sorted(range(N_ITEMS), key=lambda i: (-counts[i], i))[:3]
    assert list(ids[0]) == expected


@pytest.mark.parametrize("weighting", ["bm25", "tfidf"])
def test_item_knn_weighted_neighbours_are_the_cosine_of_implicits_weighting(
    weighting: str,
) -> None:
    """The cosine of usage weighted as implicit's BM25/TFIDF recommenders weigh it (songs as
    documents, influencers as terms), whatever the ratings."""
    from implicit.nearest_neighbours import bm25_weight, tfidf_weight

    ratings, mask = small_matrix(5)
    k = 6
    model = ItemKNN(n_neighbors=k, weighting=weighting).fit(ratings)
    weigh = bm25_weight if weighting == "bm25" else tfidf_weight
    songs = weigh(sp.csr_matrix(mask.T.astype(np.float64))).toarray()  # songs x influencers
    sim = cosine_similarity(songs)
    np.fill_diagonal(sim, -np.inf)
    np.testing.assert_allclose(model.similarities_, -np.sort(-sim, axis=1)[:, :k], atol=1e-12)
    rows = np.arange(N_ITEMS)[:, None]
    np.testing.assert_allclose(model.similarities_, sim[rows, model.neighbors_], atol=1e-12)
    plain = ItemKNN(n_neighbors=k).fit(ratings)
    assert not np.allclose(model.similarities_, plain.similarities_)


def test_item_knn_refuses_an_unknown_weighting() -> None:
    ratings, _ = small_matrix(5)
    with pytest.raises(ValueError, match="weighting"):
        ItemKNN(weighting="bm52").fit(ratings)
