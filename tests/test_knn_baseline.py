"""KNNBaseline against Surprise's estimate computed pair by pair, and the neighbours it keeps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from models_py.recommenders import KNNBaseline, Ratings, knn_baseline
from models_py.recommenders.baselines import fit_biases
from tests.dense_refs import N_ITEMS, N_USERS, assert_same_ranking, dense, predict_all, small_matrix


def knn_baseline_reference(model: KNNBaseline, ratings: Ratings, mask: np.ndarray) -> np.ndarray:
    """Surprise's KNNBaseline estimate with shrunk Pearson-baseline similarities, pair by pair."""
    x = dense(ratings)
    mu = ratings.rating.mean()
    b_u, b_i = fit_biases(ratings, mu, model.reg_user, model.reg_item, 15)
    z = np.where(mask, x - mu - b_u[:, None] - b_i[None, :], 0.0)
    sim = np.zeros((N_ITEMS, N_ITEMS))
    for a in range(N_ITEMS):
        for b in range(N_ITEMS):
            common = mask[:, a] & mask[:, b]
            n = common.sum()
            den = np.sqrt((z[common, a] ** 2).sum() * (z[common, b] ** 2).sum())
            if a != b and n >= max(model.min_support, 1) and den > 0:
                s = (z[common, a] * z[common, b]).sum() / den
                sim[a, b] = round(s * n / (n + model.shrinkage), 12)
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
