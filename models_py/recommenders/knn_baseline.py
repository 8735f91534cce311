"""Item-based neighbourhood CF on baseline residuals (Koren 2010; Surprise's KNNBaseline).

    r_hat(u, i) = b_ui + sum_j s_ij (r_uj - b_uj) / sum_j s_ij,   b_ui = mu + b_u + b_i,

over the ``n_neighbors`` items j rated by u with the highest positive similarity to i. Unlike the
report's CF, only observed ratings enter: s_ij is the Pearson-baseline similarity (cosine of the
baseline residuals over the users who rated both) shrunk by n_ij / (n_ij + shrinkage), 0 below
``min_support`` common users. Only the top ``n_stored`` positive neighbours of each item are kept
(items x n_stored, never items x items), so a user's candidates for item i are the items they
rated among i's stored neighbours; with ``n_stored`` >= every item's number of positive
neighbours this is exactly Surprise's rule, with ``n_stored == n_neighbors`` it is Koren's
R^k(i; u) = R(u) & S^k(i).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender, cell_keys, lookup
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.data import Ratings

BIAS_ITERATIONS = 15
ITEM_BLOCK = 2_048  # items per block of the sparse co-rating products
MAX_CANDIDATES = 1 << 22  # (pair, neighbour) candidates held at once
SIM_DECIMALS = 12


def expand_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR rows ``rows`` (repeats allowed): (owner index into rows, position in the CSR)."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    owner = np.repeat(np.arange(rows.size), lens)
    first = np.cumsum(lens) - lens
    return owner, np.arange(owner.size) - (first - starts)[owner]


def _chunks_by_weight(weights: np.ndarray, budget: int) -> list[slice]:
    """Consecutive slices of roughly ``budget`` total weight (one heavy element may exceed it)."""
    if weights.size == 0:
        return []
    start_offset = np.cumsum(weights) - weights
    chunk = start_offset // max(budget, 1)
    bounds = np.r_[0, np.flatnonzero(np.diff(chunk)) + 1, weights.size]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _top_per_group(group: np.ndarray, sim: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k highest-sim entries within each group (ties: earlier entry first)."""
    order = np.lexsort((-sim, group))
    g = group[order]
    is_first = np.r_[True, g[1:] != g[:-1]]
    first = np.maximum.accumulate(np.where(is_first, np.arange(g.size), 0))
    keep = np.zeros(group.size, dtype=bool)
    keep[order] = (np.arange(g.size) - first) < k
    return keep


def _aligned(m: sp.csr_matrix, keys: np.ndarray) -> np.ndarray:
    """Values of m at ``keys`` (0 where m has no entry: scipy drops products that sum to 0)."""
    m.sort_indices()
    return lookup(cell_keys(m), m.data, keys)[1]


class KNNBaseline(RatingRecommender):
    """Neighbourhood model on baseline residuals with shrunk Pearson-baseline item similarities."""

    def __init__(
        self,
        n_neighbors: int = 40,
        shrinkage: float = 100.0,
        min_support: int = 1,
        reg_user: float = 0.5,
        reg_item: float = 15.0,
        n_stored: int = 100,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.shrinkage = shrinkage
        self.min_support = min_support
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_stored = n_stored

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        self.user_bias_, self.item_bias_ = fit_biases(
            ratings, self.global_mean_, self.reg_user, self.reg_item, BIAS_ITERATIONS
        )
        rows = np.repeat(np.arange(self.n_users_), np.diff(csr.indptr))
        resid = csr.data - self._baseline(rows, csr.indices)
        self.residuals_ = resid  # aligned with used_.data
        z = sp.csr_matrix((resid, csr.indices, csr.indptr), shape=csr.shape)
        self.neighbors_, self.similarities_ = self._neighbours(z)
        k = self.neighbors_.shape[1]
        # (i, j) -> s_ij for pair predictions; j -> (i, s_ij) for scoring all items of a user.
        stored = self.neighbors_ >= 0
        i_idx = np.repeat(np.arange(self.n_items_), stored.sum(axis=1))
        j_idx, s = self.neighbors_[stored], self.similarities_[stored]
        keys = i_idx.astype(np.int64) * self.n_items_ + j_idx
        order = np.argsort(keys)
        self.neighbor_keys_, self.neighbor_sims_ = keys[order], s[order]
        self.reverse_neighbors_ = sp.csr_matrix(
            (s, (j_idx, i_idx)), shape=(self.n_items_, self.n_items_)
        )
        self.n_stored_ = k

    def _baseline(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.global_mean_ + self.user_bias_[user] + self.item_bias_[item]

    def _neighbours(self, z: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n_stored`` positive shrunk similarities per item, by item blocks."""
        n = self.n_items_
        k = max(0, min(int(self.n_stored), n - 1))
        ids = np.full((n, k), -1, dtype=np.int32)
        sims = np.zeros((n, k))
        b = z.copy()
        b.data = np.ones_like(b.data)
        z2 = z.multiply(z).tocsr()
        zt, bt, z2t = (m.T.tocsr() for m in (z, b, z2))
        for start in range(0, n, ITEM_BLOCK):
            rows = slice(start, min(start + ITEM_BLOCK, n))
            support = bt[rows] @ b  # n_ij >= 1 on every co-rated pair: the master pattern
            support.sort_indices()
            keys = cell_keys(support)
            num = _aligned(zt[rows] @ z, keys)
            den = np.sqrt(_aligned(z2t[rows] @ b, keys) * _aligned(bt[rows] @ z2, keys))
            n_ij = support.data
            sim = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
            sim = np.clip(sim, -1.0, 1.0) * n_ij / (n_ij + self.shrinkage)
            # Rounded so that mathematically equal similarities (common with 1-2 co-raters) tie
            # exactly; ties then go to the lower item code, reproducibly.
            sim = np.round(sim, SIM_DECIMALS)
            i = keys // n + start
            j = keys % n
            keep = (sim > 0) & (n_ij >= self.min_support) & (i != j)
            i, j, sim = i[keep], j[keep], sim[keep]
            order = np.lexsort((j, -sim, i))  # per item: sim desc, then code asc
            i, j, sim = i[order], j[order], sim[order]
            rank = np.arange(i.size) - np.searchsorted(i, i)  # i is sorted: first index per item
            top = rank < k
            ids[i[top], rank[top]] = j[top]
            sims[i[top], rank[top]] = sim[top]
        return ids, sims

    def _correction(
        self, group: np.ndarray, sim: np.ndarray, resid: np.ndarray, n_groups: int
    ) -> np.ndarray:
        """sum s z / sum s over each group's top-k candidates (0 for a group with none)."""
        if group.size and np.bincount(group).max() > self.n_neighbors:
            keep = _top_per_group(group, sim, int(self.n_neighbors))
            group, sim, resid = group[keep], sim[keep], resid[keep]
        num = np.bincount(group, sim * resid, n_groups)
        den = np.bincount(group, sim, n_groups)
        return np.divide(num, den, out=np.zeros(n_groups), where=den > 0)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        out = self._baseline(user, item)
        n_rated = np.diff(self.used_.indptr)[user]
        for part in _chunks_by_weight(n_rated, MAX_CANDIDATES):
            u, i = user[part], item[part]
            owner, pos = expand_rows(self.used_.indptr, u)  # every item j the user rated
            want = i[owner].astype(np.int64) * self.n_items_ + self.used_.indices[pos]
            found, sim = lookup(self.neighbor_keys_, self.neighbor_sims_, want)
            out[part] += self._correction(
                owner[found], sim[found], self.residuals_[pos[found]], u.size
            )
        return out

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        out = self._baseline(users[:, None], np.arange(self.n_items_)[None, :])
        rev = self.reverse_neighbors_
        # Candidates per user = sum over their rated items j of how many items list j.
        rated = self.used_[users]  # a copy: safe to overwrite its data
        rated.data = np.ones_like(rated.data)
        weight = rated @ np.diff(rev.indptr)
        for part in _chunks_by_weight(weight, MAX_CANDIDATES):
            u = users[part]
            owner, pos = expand_rows(self.used_.indptr, u)  # (user row, rated item j)
            owner2, pos2 = expand_rows(rev.indptr, self.used_.indices[pos])  # items i listing j
            row = owner[owner2]
            group = row.astype(np.int64) * self.n_items_ + rev.indices[pos2]
            corr = self._correction(
                group, rev.data[pos2], self.residuals_[pos[owner2]], u.size * self.n_items_
            )
            out[part] += corr.reshape(u.size, self.n_items_)
        return out
