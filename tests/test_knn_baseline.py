"""KNNBaseline against Surprise's estimate computed pair by pair, and the neighbours it keeps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from models_py.recommenders import KNNBaseline, Ratings, knn_baseline
from models_py.recommenders.baselines import fit_biases
from tests.dense_refs import N_ITEMS, N_USERS, assert_same_ranking, dense, predict_all, small_matrix


def pearson_baseline_dense(
    z: np.ndarray, mask: np.ndarray, similarity: str, shrinkage: float, min_support: int
) -> np.ndarray:
    """Items x items shrunk Pearson-baseline similarities (diagonal 0), transcribed densely:
    rho_ij = sum_u z_ui z_uj / sqrt(sum_u z_ui^2 * sum_u z_uj^2) over the n_ij users who rated
    both, times (n_ij - 1) / (n_ij - 1 + lambda) from 2 co-raters on (Surprise's
    pearson_baseline) or n_ij / (n_ij + lambda) (Koren's)."""
    rated = mask.astype(float)
    n = rated.T @ rated
    den = np.sqrt((z**2).T @ rated * (rated.T @ z**2))
    rho = np.divide(z.T @ z, den, out=np.zeros_like(den), where=den > 0)
    if similarity == "pearson_baseline":
        support, floor = n - 1, max(2, min_support)
    else:
        support, floor = n, max(1, min_support)
    factor = np.divide(support, support + shrinkage, out=np.zeros_like(n), where=support > 0)
    sim = np.where(n >= floor, rho * factor, 0.0)
    np.fill_diagonal(sim, 0.0)
    return sim


def knn_baseline_reference(model: KNNBaseline, ratings: Ratings, mask: np.ndarray) -> np.ndarray:
    """Surprise's KNNBaseline estimate with shrunk Pearson-baseline similarities, pair by pair."""
    x = dense(ratings)
    mu = ratings.rating.mean()
    b_u, b_i = fit_biases(ratings, mu, model.reg_user, model.reg_item, 15)
    z = np.where(mask, x - mu - b_u[:, None] - b_i[None, :], 0.0)
    sim = pearson_baseline_dense(z, mask, model.similarity, model.shrinkage, model.min_support)
    sim = np.round(sim, 12)
    out = mu + b_u[:, None] + b_i[None, :]
    for u in range(N_USERS):
        for i in range(N_ITEMS):
            cands = sorted((-sim[i, j], j) for j in np.flatnonzero(mask[u]) if j != i)
            top = [(-s, j) for s, j in cands[: model.n_neighbors] if -s > 0]
            if top:
                out[u, i] += sum(s * z[u, j] for s, j in top) / sum(s for s, _ in top)
    return out


@pytest.mark.parametrize(
    "params",
    [
        {"n_neighbors": 40, "shrinkage": 5.0, "min_support": 2},
        {"n_neighbors": 3, "shrinkage": 10.0, "min_support": 1},
        {"n_neighbors": 1, "shrinkage": 0.0, "min_support": 1},
        {"n_neighbors": 40, "shrinkage": 5.0, "min_support": 1, "similarity": "pearson_baseline"},
        {"n_neighbors": 3, "shrinkage": 0.0, "min_support": 3, "similarity": "pearson_baseline"},
    ],
)
def test_knn_baseline_equals_pairwise_reference(
    params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(knn_baseline, "ITEM_BLOCK", 7)  # many blocks and candidate chunks
    monkeypatch.setattr(knn_baseline, "MAX_CANDIDATES", 40)
    ratings, mask = small_matrix(6)
    model = KNNBaseline(**params, n_stored=N_ITEMS).fit(ratings)
    expected = knn_baseline_reference(model, ratings, mask)
    np.testing.assert_allclose(predict_all(model, ratings), expected, atol=1e-9)
    users = np.arange(N_USERS)
    assert_same_ranking(*model.recommend(users, 5), expected, mask, users)
    assert model.neighbors_.shape[0] == N_ITEMS
    assert ((model.neighbors_ != np.arange(N_ITEMS)[:, None]) | (model.neighbors_ == -1)).all()


def test_knn_baseline_keeps_only_n_stored_neighbours() -> None:
    ratings, _ = small_matrix(6)
    model = KNNBaseline(n_stored=3, shrinkage=1.0).fit(ratings)
    assert model.neighbors_.shape == model.similarities_.shape == (N_ITEMS, 3)
    assert (model.similarities_[model.neighbors_ >= 0] > 0).all()
    assert (np.diff(model.similarities_, axis=1) <= 0).all()


@pytest.mark.parametrize("similarity", ["pearson_baseline", "koren"])
def test_stored_similarities_equal_dense_transcription(
    similarity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every positive similarity is stored (n_stored >= items), each equal to the dense one."""
    monkeypatch.setattr(knn_baseline, "ITEM_BLOCK", 7)
    ratings, mask = small_matrix(3)
    model = KNNBaseline(similarity=similarity, shrinkage=2.0, n_stored=N_ITEMS).fit(ratings)
    x = dense(ratings)
    baseline = model.global_mean_ + model.user_bias_[:, None] + model.item_bias_[None, :]
    z = np.where(mask, x - baseline, 0.0)
    expected = pearson_baseline_dense(z, mask, similarity, 2.0, 1)
    stored = np.zeros((N_ITEMS, N_ITEMS))
    ok = model.neighbors_ >= 0
    stored[np.nonzero(ok)[0], model.neighbors_[ok]] = model.similarities_[ok]
    np.testing.assert_allclose(stored, np.where(expected > 0, expected, 0.0), atol=1e-11)
    single = (mask.T.astype(int) @ mask) == 1
    if similarity == "pearson_baseline":  # one co-rater: rho = +-1, shrunk to 0
        assert (stored[single] == 0).all()
    else:
        assert (stored[single] > 0).any()


def test_pattern_values_where_a_product_drops_a_cancelled_sum() -> None:
    """Two co-raters whose residual products cancel: scipy drops that cell, read as 0."""
    z = sp.csr_matrix(np.array([[1.0, 1.0, 2.0], [1.0, -1.0, 0.5], [0.0, 3.0, 1.0]]))
    b = z.copy()
    b.data[:] = 1.0
    support = b.T.tocsr() @ b
    num = z.T.tocsr() @ z
    assert num.nnz < support.nnz  # the cancelled cell (0, 1) is gone
    (values,) = knn_baseline._on_pattern(support, [num])
    rows = np.repeat(np.arange(3), np.diff(support.indptr))
    np.testing.assert_array_equal(values, (z.T @ z).toarray()[rows, support.indices])


def test_unknown_similarity_is_refused() -> None:
    ratings, _ = small_matrix(0)
    with pytest.raises(ValueError, match="similarity"):
        KNNBaseline(similarity="cosine").fit(ratings)
