"""Biased matrix factorisation r ~ mu + b_u + b_i + p_u . q_i, fitted by alternating least squares.

Only observed ratings enter the loss (unlike the report's zero-filled SVD). With the other side
fixed, each user's (p_u, b_u) is a small ridge regression with closed form; all users are solved
at once as a stack of (k+1) x (k+1) systems, whose normal matrices are accumulated with one sparse
(rows x partners) @ (partners x (k+1)(k+2)/2) product per chunk and solved by a Cholesky
vectorised over the rows, so there is no Python loop over users, items or ratings.

The ALS starts from the converged biases, so with the tuned regularisation the loss stops
moving after a few sweeps, and ``tol`` stops there. The normal matrices are summed in float32
and their outer products formed in a reused buffer: the sparse products that gather them are
bound by memory, not arithmetic (figures in bench/notes.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender, row_dot
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.data import Ratings
from models_py.recommenders.separable_rank import SeparableRanker, rank_index, separable_scores

CHUNK_ROWS = 1 << 16  # users (or items) whose normal equations are stacked at once
OUTER_BLOCK_ROWS = 4096  # partners whose outer products are formed at once
# The normal matrices' sparse product gathers one row of outer products per rating, at random:
# memory-bound, so single precision speeds it up. Sums of a few thousand float32 terms keep
# ~1e-6 relative accuracy, far below what moves a penalised ALS solution; the right-hand sides
# and the solves stay in float64.
NORMAL_DTYPE = np.float32


@dataclass(frozen=True)
class RowGroups:
    """Ratings grouped by row (users, or items via the CSC), cut into chunks of CHUNK_ROWS rows;
    each chunk's (rows x partners) pattern is built once per fit, not once per sweep."""

    chunks: tuple[sp.csr_matrix, ...]
    n_other: int
    # The partners' outer products, rewritten each sweep: reusing it spares the page faults of a
    # fresh (partners x 45) array every half-step.
    scratch: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, indptr: np.ndarray, other: np.ndarray, n_other: int) -> RowGroups:
        chunks = []
        for r0 in range(0, indptr.size - 1, CHUNK_ROWS):
            r1 = min(r0 + CHUNK_ROWS, indptr.size - 1)
            lo, hi = indptr[r0], indptr[r1]
            ptr, cols = indptr[r0 : r1 + 1] - lo, other[lo:hi]
            ones = np.ones(hi - lo, dtype=NORMAL_DTYPE)
            chunks.append(sp.csr_matrix((ones, cols, ptr), shape=(r1 - r0, n_other)))
        return cls(tuple(chunks), n_other)

    def ridge(
        self, target: np.ndarray, features: np.ndarray, penalty: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """Per row r: x_r = argmin_x sum_{k in r} (target_k - y_k . x)^2 + sum_f penalty_f x_f^2
        with y_k = features[partner of k]; returns (x, the minimised objective summed over rows).
        ``target`` is row-major, like the ratings of the chunks."""
        f = features.shape[1]
        # A row's normal matrix is the sum of its partners' outer products, formed once per
        # partner (not per rating) and summed by one sparse product; only the upper triangle,
        # the matrices being symmetric (45 of 81 columns at k=8).
        start = _row_starts(f)
        outer = self._outer_products(features, start)
        out, objective, lo = [], 0.0, 0
        for ones in self.chunks:
            t = target[lo : lo + ones.nnz]
            lo += ones.nnz
            upper = (ones @ outer).T.astype(np.float64, order="C")  # solved in float64
            upper[start[:-1]] += penalty[:, None]
            values = sp.csr_matrix((t, ones.indices, ones.indptr), shape=ones.shape)
            rhs = np.ascontiguousarray((values @ features).T)
            x = solve_packed(upper, rhs.copy())
            # At a ridge minimum the objective is |t|^2 - rhs . x: the loss without a pass.
            objective += float(t @ t - np.einsum("fr,fr->", rhs, x))
            out.append(x.T)
        if len(out) == 1:
            return out[0], objective
        return (np.concatenate(out) if out else np.empty((0, f))), objective

    def _outer_products(self, features: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Each partner's packed upper triangle of y y^T, in NORMAL_DTYPE, built in blocks of
        rows that stay in cache (the column slices are strided)."""
        f, n = features.shape[1], features.shape[0]
        outer = self.scratch.get("outer")
        if outer is None or outer.shape != (n, start[-1]):
            outer = self.scratch["outer"] = np.empty((n, start[-1]), dtype=NORMAL_DTYPE)
        for r0 in range(0, n, OUTER_BLOCK_ROWS):
            y, o = features[r0 : r0 + OUTER_BLOCK_ROWS], outer[r0 : r0 + OUTER_BLOCK_ROWS]
            for i in range(f):  # row i of each partner's packed upper triangle: y_i * y[i:]
                np.multiply(y[:, i, None], y[:, i:], out=o[:, start[i] : start[i + 1]])
        return outer


def _row_starts(f: int) -> np.ndarray:
    """Where each row (and the end) of a packed row-major upper triangle starts."""
    i = np.arange(f + 1)
    return i * f - i * (i - 1) // 2


def solve_packed(upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve A_r x_r = rhs_r for a stack of symmetric positive definite A_r by Cholesky, with
    rows r along the last axis: ``upper`` (f(f+1)/2, rows) is each A_r's upper triangle packed
    row by row, ``rhs`` (f, rows). Both are overwritten; returns x (f, rows), which is ``rhs``.

    The loops run over the f(f+1)/2 matrix cells, each step vectorised over all rows: at small
    k that beats np.linalg.solve's one LAPACK call per tiny system."""
    f = rhs.shape[0]
    start = _row_starts(f)
    for j in range(f):  # A = U^T U, U overwriting A row by row; then U^T z = rhs, forwards
        row = upper[start[j] : start[j + 1]]
        if not (row[0] > 0).all():
            raise np.linalg.LinAlgError("normal matrix is not positive definite")
        np.sqrt(row[0], out=row[0])
        row[1:] /= row[0]
        for i in range(j + 1, f):
            upper[start[i] : start[i + 1]] -= row[i - j] * row[i - j :]
        rhs[j] /= row[0]
        rhs[j + 1 :] -= row[1:] * rhs[j]
    for j in range(f - 1, -1, -1):  # U x = z, backwards
        row = upper[start[j] : start[j + 1]]
        rhs[j] -= np.einsum("ln,ln->n", row[1:], rhs[j + 1 :])
        rhs[j] /= row[0]
    return rhs


def ridge_rows(
    indptr: np.ndarray,
    other: np.ndarray,
    target: np.ndarray,
    features: np.ndarray,
    penalty: np.ndarray,
) -> np.ndarray:
    """Per row r: argmin_x sum_{k in row r} (target_k - y_k . x)^2 + sum_f penalty_f x_f^2,
    with y_k = features[other[k]]; rows are CSR rows (indptr) over the ratings."""
    return RowGroups.of(indptr, other, features.shape[0]).ridge(target, features, penalty)[0]


class BiasedMF(RatingRecommender):
    """Biased MF by ALS; ``reg`` penalises the factors, ``reg_user_bias``/``reg_item_bias`` the
    biases (separately: users' biases spread far more than songs' here, so they want far less).
    At most ``n_iter`` sweeps (users, then songs); it stops at the first half-step that lowers the
    penalised training loss by less than ``tol`` of it (0: always ``n_iter``); ``n_iter_`` is
    the number of sweeps begun."""

    PARTS = {
        "user_factors_": "influencer",
        "user_bias_": "influencer",
        "item_factors_": "song",
        "item_bias_": "song",
    }

    def __init__(
        self,
        n_factors: int = 8,
        reg: float = 10.0,
        n_iter: int = 15,
        random_state: int | None = 0,
        reg_user_bias: float = 0.5,
        reg_item_bias: float = 15.0,
        init_std: float = 0.1,
        tol: float = 1e-4,
    ) -> None:
        self.n_factors = n_factors
        self.reg = reg
        self.n_iter = n_iter
        self.random_state = random_state
        self.reg_user_bias = reg_user_bias
        self.reg_item_bias = reg_item_bias
        self.init_std = init_std
        self.tol = tol

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        k, mu, reg = int(self.n_factors), self.global_mean_, float(self.reg)
        penalty_u = np.r_[np.full(k, reg), self.reg_user_bias]
        penalty_i = np.r_[np.full(k, reg), self.reg_item_bias]
        csc = csr.tocsc()  # the same ratings grouped by item
        csc.sort_indices()
        by_user = RowGroups.of(csr.indptr, csr.indices, self.n_items_)
        by_item = RowGroups.of(csc.indptr, csc.indices, self.n_users_)
        user_of_csr = np.repeat(np.arange(self.n_users_), np.diff(csr.indptr))
        rng = np.random.default_rng(self.random_state)
        p = np.zeros((self.n_users_, k))
        q = rng.normal(0.0, self.init_std, (self.n_items_, k))
        b_u, b_i = fit_biases(ratings, mu, self.reg_user_bias, self.reg_item_bias, 5)  # warm start
        resid = csr.data - mu - b_u[user_of_csr] - b_i[csr.indices]
        squared_error = float(resid @ resid)
        loss = squared_error + self._penalty(p, b_u, self.reg_user_bias)
        loss += self._penalty(q, b_i, self.reg_item_bias)
        self.n_iter_ = 0
        for _ in range(int(self.n_iter)):
            self.n_iter_ += 1
            # Each half-step's minimum is the squared error plus its side's penalty, so the loss
            # needs no pass over the ratings. A half-step that gains ~nothing leaves its side
            # ~unchanged (each ridge problem is strictly convex), so the other side is then
            # already optimal too: stop there.
            x, user_loss = by_user.ridge(csr.data - mu - b_i[csr.indices], _ones(q), penalty_u)
            p, b_u = x[:, :k], x[:, k]
            previous, loss = loss, user_loss + self._penalty(q, b_i, self.reg_item_bias)
            if self.tol > 0 and previous - loss <= self.tol * previous:
                break
            y, item_loss = by_item.ridge(csc.data - mu - b_u[csc.indices], _ones(p), penalty_i)
            q, b_i = y[:, :k], y[:, k]
            previous, loss = loss, item_loss + self._penalty(p, b_u, self.reg_user_bias)
            if self.tol > 0 and previous - loss <= self.tol * previous:
                break
        self.user_factors_, self.item_factors_ = np.ascontiguousarray(p), np.ascontiguousarray(q)
        self.user_bias_, self.item_bias_ = np.ascontiguousarray(b_u), np.ascontiguousarray(b_i)
        self._derive_parts()
        # The half-steps' losses rest on single-precision normal matrices: close enough to judge
        # a half-step's gain against tol, not to report a near-zero error. So one exact pass.
        resid = csr.data - self._predict_known(user_of_csr, csr.indices)
        squared_error = float(resid @ resid)
        self.train_loss_ = squared_error + self._penalty(p, b_u, self.reg_user_bias)
        self.train_loss_ += self._penalty(q, b_i, self.reg_item_bias)
        self.train_rmse_ = float(np.sqrt(squared_error / csr.nnz)) if csr.nnz else 0.0

    def _derive_parts(self) -> None:
        self.item_order_, self.item_norm_after_ = rank_index(self.item_bias_, self.item_factors_)

    def _penalty(self, factors: np.ndarray, bias: np.ndarray, reg_bias: float) -> float:
        """One side's regularisation terms of the training loss."""
        squares = float(np.einsum("ij,ij->", factors, factors))
        return float(self.reg) * squares + float(reg_bias) * float(bias @ bias)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return (
            self.global_mean_
            + self.user_bias_[user]
            + self.item_bias_[item]
            + row_dot(self.user_factors_, user, self.item_factors_, item)
        )

    def ranker(self) -> SeparableRanker:
        return SeparableRanker(
            self.global_mean_,
            self.user_bias_,
            self.item_bias_,
            self.item_order_,
            self.item_norm_after_,
            self.user_factors_,
            self.item_factors_,
        )

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return separable_scores(
            self.global_mean_,
            self.user_bias_,
            self.item_bias_,
            users,
            None,
            self.user_factors_,
            self.item_factors_,
        )


def _ones(factors: np.ndarray) -> np.ndarray:
    """[factors, 1]: the constant column carries the bias of the side being solved."""
    return np.hstack([factors, np.ones((factors.shape[0], 1))])
