"""Biased matrix factorisation r ~ mu + b_u + b_i + p_u . q_i, fitted by alternating least squares.

Only observed ratings enter the loss (unlike the report's zero-filled SVD). With the other side
fixed, each user's (p_u, b_u) is a small ridge regression with closed form; all users are solved
at once as a stack of (k+1) x (k+1) systems, whose normal matrices are accumulated with one sparse
(rows x ratings) @ (ratings x (k+1)^2) product per chunk, so there is no Python loop over users,
items or ratings.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender, row_dot
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.data import Ratings

CHUNK_ROWS = 1 << 16  # users (or items) whose normal equations are stacked at once


def ridge_rows(
    indptr: np.ndarray,
    other: np.ndarray,
    target: np.ndarray,
    features: np.ndarray,
    penalty: np.ndarray,
) -> np.ndarray:
    """Per row r: argmin_x sum_{k in row r} (target_k - y_k . x)^2 + sum_f penalty_f x_f^2,
    with y_k = features[other[k]]; rows are CSR rows (indptr) over the ratings."""
    n_rows, f = indptr.size - 1, features.shape[1]
    n_other = features.shape[0]
    out = np.empty((n_rows, f))
    # A row's normal matrix is the sum of its partners' outer products: formed once per partner
    # (n_other x f^2), not once per rating, and summed by one sparse product (profiled: the
    # per-rating outer products were ~65% of the fit; this is 2-4x faster, same numbers).
    outer = (features[:, :, None] * features[:, None, :]).reshape(n_other, f * f)
    diag = np.arange(f)
    for r0 in range(0, n_rows, CHUNK_ROWS):
        r1 = min(r0 + CHUNK_ROWS, n_rows)
        lo, hi = indptr[r0], indptr[r1]
        ptr, cols = indptr[r0 : r1 + 1] - lo, other[lo:hi]
        ones = sp.csr_matrix((np.ones(hi - lo), cols, ptr), shape=(r1 - r0, n_other))
        gram = (ones @ outer).reshape(-1, f, f)
        gram[:, diag, diag] += penalty
        rhs = sp.csr_matrix((target[lo:hi], cols, ptr), shape=(r1 - r0, n_other)) @ features
        out[r0:r1] = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    return out


class BiasedMF(RatingRecommender):
    """Biased MF by ALS; ``reg`` penalises the factors, ``reg_user_bias``/``reg_item_bias`` the
    biases (separately: users' biases spread far more than songs' here, so they want far less)."""

    def __init__(
        self,
        n_factors: int = 8,
        reg: float = 10.0,
        n_iter: int = 15,
        random_state: int | None = 0,
        reg_user_bias: float = 0.5,
        reg_item_bias: float = 15.0,
        init_std: float = 0.1,
    ) -> None:
        self.n_factors = n_factors
        self.reg = reg
        self.n_iter = n_iter
        self.random_state = random_state
        self.reg_user_bias = reg_user_bias
        self.reg_item_bias = reg_item_bias
        self.init_std = init_std

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        k, mu = int(self.n_factors), self.global_mean_
        reg = np.full(k, float(self.reg))
        penalty_u, penalty_i = np.r_[reg, self.reg_user_bias], np.r_[reg, self.reg_item_bias]
        csc = csr.tocsc()  # the same ratings grouped by item
        csc.sort_indices()
        user_of_csr = np.repeat(np.arange(self.n_users_), np.diff(csr.indptr))
        rng = np.random.default_rng(self.random_state)
        p = np.zeros((self.n_users_, k))
        q = rng.normal(0.0, self.init_std, (self.n_items_, k))
        b_u, b_i = fit_biases(ratings, mu, self.reg_user_bias, self.reg_item_bias, 5)  # warm start
        for _ in range(int(self.n_iter)):
            x = ridge_rows(
                csr.indptr, csr.indices, csr.data - mu - b_i[csr.indices], _ones(q), penalty_u
            )
            p, b_u = x[:, :k], x[:, k]
            y = ridge_rows(
                csc.indptr, csc.indices, csc.data - mu - b_u[csc.indices], _ones(p), penalty_i
            )
            q, b_i = y[:, :k], y[:, k]
        self.user_factors_, self.item_factors_ = p, q
        self.user_bias_, self.item_bias_ = b_u, b_i
        fitted = self._predict_known(user_of_csr, csr.indices)
        self.train_rmse_ = float(np.sqrt(np.mean((csr.data - fitted) ** 2))) if csr.nnz else 0.0

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return (
            self.global_mean_
            + self.user_bias_[user]
            + self.item_bias_[item]
            + row_dot(self.user_factors_, user, self.item_factors_, item)
        )

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T
        scores += self.global_mean_ + self.user_bias_[users, None] + self.item_bias_[None, :]
        return scores


def _ones(factors: np.ndarray) -> np.ndarray:
    """[factors, 1]: the constant column carries the bias of the side being solved."""
    return np.hstack([factors, np.ones((factors.shape[0], 1))])
