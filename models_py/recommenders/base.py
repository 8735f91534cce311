"""The estimator contract shared by every recommender, and the one blocked top-n ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from models_py.recommenders.data import Ratings

MAX_BLOCK_USERS = 2_048
# Cap on cells of one dense users x items block. 24 MB of float64 stays under glibc's largest
# mmap threshold (32 MB), so freed blocks are reused from the heap instead of being page-faulted
# in afresh each time: measured ~2x faster top-n than 2,048 x 10k blocks.
MAX_BLOCK_CELLS = 3_000_000


def block_rows(n_items: int, max_rows: int = MAX_BLOCK_USERS) -> int:
    """Users per dense block so that a block stays within MAX_BLOCK_CELLS."""
    return max(1, min(max_rows, MAX_BLOCK_CELLS // max(n_items, 1)))


def chunks_by_weight(weights: np.ndarray, budget: int) -> list[slice]:
    """Consecutive slices of roughly ``budget`` total weight (one heavy element may exceed it)."""
    if weights.size == 0:
        return []
    start_offset = np.cumsum(weights) - weights
    chunk = start_offset // max(budget, 1)
    bounds = np.r_[0, np.flatnonzero(np.diff(chunk)) + 1, weights.size]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def as_codes(a: np.ndarray | list[int], name: str) -> np.ndarray:
    codes = np.asarray(a)
    if codes.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    if codes.size and codes.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer codes")
    return codes.astype(np.int64, copy=False)


def row_dot(
    a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray, chunk: int = 1 << 16
) -> np.ndarray:
    """sum_f a[ia, f] * b[ib, f], in chunks so the gathered rows stay small."""
    out = np.empty(ia.size)
    for s in range(0, ia.size, chunk):
        out[s : s + chunk] = np.einsum("ij,ij->i", a[ia[s : s + chunk]], b[ib[s : s + chunk]])
    return out


def cell_keys(csr: sp.csr_matrix) -> np.ndarray:
    """row * n_cols + col of every stored cell: sorted when the CSR has sorted indices."""
    rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    return rows * csr.shape[1] + csr.indices


def lookup(keys: np.ndarray, values: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, value or 0) of each key in ``want`` among sorted unique ``keys``."""
    if keys.size == 0:
        return np.zeros(want.shape, dtype=bool), np.zeros(want.shape)
    pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
    found = keys[pos] == want
    return found, np.where(found, values[pos], 0.0)


def _first_true(mask: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, col), row-major, of the first ``need[r]`` True cells of each row of ``mask``."""
    # They usually sit in a short prefix: widen it only until every row has enough.
    width = min(mask.shape[1], 64)
    while True:
        seen = np.cumsum(mask[:, :width], axis=1, dtype=np.int32)
        if width == mask.shape[1] or (seen[:, -1] >= need).all():
            break
        width = min(mask.shape[1], width * 8)
    return np.nonzero(mask[:, :width] & (seen <= need[:, None]))


def _select(neg: np.ndarray, k: int) -> np.ndarray:
    """Columns of the k smallest cells per row (unordered); the lowest codes among cut ties."""
    cols = np.argpartition(neg, k - 1, axis=1)[:, :k]
    sel = np.take_along_axis(neg, cols, axis=1)
    thr = sel.max(axis=1, keepdims=True)
    tied = neg == thr
    # argpartition picks an arbitrary subset of the ties at the cut: redo those rows, keeping the
    # picks strictly below the cut (it always has them all) and the lowest tied codes.
    short = tied.sum(axis=1) > (sel == thr).sum(axis=1)
    if short.any():
        sub_cols, better = cols[short], sel[short] < thr[short]
        r1, c1 = _first_true(tied[short], k - better.sum(axis=1))
        r0, j0 = np.nonzero(better)
        col = np.concatenate([sub_cols[r0, j0], c1])
        cols[short] = col[np.argsort(np.concatenate([r0, r1]), kind="stable")].reshape(-1, k)
    return cols


def top_n(scores: np.ndarray, n: int, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the n best columns by score desc, ties by column asc; -inf/nan = unavailable.

    Returns (int32 ids, float64 scores) of shape (rows, n), padded with -1 / nan.
    ``overwrite=True`` lets it reuse ``scores`` as scratch (saves a block-sized allocation).
    """
    rows, n_cols = scores.shape
    ids = np.full((rows, n), -1, dtype=np.int32)
    vals = np.full((rows, n), np.nan)
    k = min(n, n_cols)
    if k == 0 or rows == 0:
        return ids, vals
    # Ascending on neg == descending on score; unavailable cells become +inf and sort last.
    neg = np.negative(scores, out=scores if overwrite else None)
    if np.isnan(neg.sum()):  # one pass, no temporary; NaN also if +inf meets -inf
        neg[np.isnan(neg)] = np.inf
    if k < n_cols:
        # Rows whose k best all equal the row's best (e.g. a constant row) need no selection;
        # they are also argpartition's slow case (many equal values), ~20x slower (measured).
        at_min = neg == neg.min(axis=1, keepdims=True)
        flat = at_min.sum(axis=1) >= k
        cols = np.empty((rows, k), dtype=np.intp)
        if flat.any():
            cols[flat] = _first_true(at_min[flat], np.full(flat.sum(), k))[1].reshape(-1, k)
        if not flat.all():
            cols[~flat] = _select(neg if not flat.any() else neg[~flat], k)
        sel = np.take_along_axis(neg, cols, axis=1)
    else:
        cols = np.broadcast_to(np.arange(n_cols), (rows, n_cols))
        sel = neg
    order = np.lexsort((cols, sel), axis=1)  # by neg, then by column code
    cols, sel = np.take_along_axis(cols, order, axis=1), np.take_along_axis(sel, order, axis=1)
    ok = np.isfinite(sel)
    ids[:, :k] = np.where(ok, cols, -1)
    vals[:, :k] = np.where(ok, -sel, np.nan)
    return ids, vals


def top_n_of_candidates(
    scores: np.ndarray, cand: np.ndarray, used: sp.csr_matrix | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``top_n`` of a users x candidates block whose columns are the sorted item codes ``cand``
    (so ties by column are ties by code), the cells of ``used`` (the block's users' used items,
    one CSR row per user) excluded. Returns item codes; overwrites ``scores``."""
    if used is not None:
        row = np.repeat(np.arange(used.shape[0]), np.diff(used.indptr))
        pos = np.minimum(np.searchsorted(cand, used.indices), cand.size - 1)
        hit = cand[pos] == used.indices
        scores[row[hit], pos[hit]] = -np.inf
    ids, vals = top_n(scores, n, True)
    return np.where(ids >= 0, cand[np.maximum(ids, 0)], -1).astype(np.int32), vals


class RatingRecommender(BaseEstimator):
    """Explicit-rating recommender over integer-coded users and items.

    Subclasses implement ``_fit``, ``_predict_known`` (pairs with in-range codes) and
    ``_score_block`` (a new dense float64 array of scores of a block of users against all items,
    which ``recommend`` may overwrite).
    Learned attributes end with ``_``; ``__init__`` only stores parameters (sklearn contract).
    """

    def fit(self, ratings: Ratings) -> Self:
        csr = ratings.to_csr()
        self.n_users_ = ratings.n_users
        self.n_items_ = ratings.n_items
        self.global_mean_ = float(ratings.rating.mean()) if len(ratings) else 0.0
        self.used_ = csr  # the fit ratings: "used" items for recommend, lookups for models
        self._fit(ratings, csr)
        return self

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Predicted ratings for (user[k], item[k]); codes outside the fitted ranges (users or
        items unseen at fit) get the global mean."""
        user, item = as_codes(user, "user"), as_codes(item, "item")
        if user.shape != item.shape:
            raise ValueError("user and item must have the same length")
        out = np.full(user.size, self.global_mean_)
        known = (user >= 0) & (user < self.n_users_) & (item >= 0) & (item < self.n_items_)
        if known.any():
            out[known] = self._predict_known(user[known], item[known])
        return out

    def recommend(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool = True,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n items per user: (int32 item codes, float64 scores), each (len(users), n), by
        score desc then item code asc, padded with -1 / nan when fewer than n items remain.
        "Used" items are those the user rated in the ratings passed to ``fit``.
        ``candidates``: boolean mask over items; only those are ranked (default: all)."""
        users = self._user_codes(users, n)
        ids = np.full((users.size, n), -1, dtype=np.int32)
        vals = np.full((users.size, n), np.nan)
        step = self._recommend_block_rows()
        for start in range(0, users.size, step):
            block = users[start : start + step]
            ids[start : start + step], vals[start : start + step] = self._top_n_block(
                block, n, exclude_used, candidates
            )
        return ids, vals

    def _user_codes(self, users: np.ndarray, n: int) -> np.ndarray:
        users = as_codes(users, "users")
        if n < 0:
            raise ValueError("n must be >= 0")
        if users.size and (users.min() < 0 or users.max() >= self.n_users_):
            raise ValueError(f"user codes must be in [0, {self.n_users_})")
        return users

    def recommend_each(
        self, users: np.ndarray, n: int, settings: Sequence[Mapping[str, Any]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``recommend`` (used songs excluded) under each of ``settings``, parameters that only
        change how the fitted model scores (``scoring_params``); the model is left at the
        last. Models whose settings can share work override this."""
        out = []
        for params in settings:
            self.set_params(**params)
            out.append(self.recommend(users, n, exclude_used=True))
        return out

    def _recommend_block_rows(self) -> int:
        return block_rows(self.n_items_)

    def _top_n_block(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``recommend`` for one block of users: dense scores, ranked. Models whose scores are
        mostly sparse (item_knn) or bias plus factors (separable_rank) override this."""
        scores = self._score_block(users)  # a fresh array: ours to overwrite
        if candidates is not None:
            scores[:, ~candidates] = -np.inf
        if exclude_used:
            used = self.used_[users]
            rows = np.repeat(np.arange(users.size), np.diff(used.indptr))
            scores[rows, used.indices] = -np.inf
        return top_n(scores, n, True)
