"""BiasBaseline: the user and song biases are the ridge regression's solution."""

from __future__ import annotations

import numpy as np

from models_py.recommenders import BiasBaseline
from tests.dense_refs import N_ITEMS, N_USERS, small_matrix


def test_bias_baseline_converges_to_the_ridge_solution() -> None:
    ratings, _ = small_matrix(7)
    reg_user, reg_item = 0.7, 3.0
    model = BiasBaseline(reg_user=reg_user, reg_item=reg_item, n_iter=500).fit(ratings)
    mu = ratings.rating.mean()
    design = np.zeros((len(ratings), N_USERS + N_ITEMS))
    design[np.arange(len(ratings)), ratings.user] = 1.0
    design[np.arange(len(ratings)), N_USERS + ratings.item] = 1.0
    penalty = np.diag(np.r_[np.full(N_USERS, reg_user), np.full(N_ITEMS, reg_item)])
    b = np.linalg.solve(design.T @ design + penalty, design.T @ (ratings.rating - mu))
    np.testing.assert_allclose(model.user_bias_, b[:N_USERS], atol=1e-8)
    np.testing.assert_allclose(model.item_bias_, b[N_USERS:], atol=1e-8)
    assert model.user_bias_[3] == 0.0 and model.item_bias_[5] == 0.0  # no ratings: the prior
