"""Item-based neighbourhood CF on baseline residuals (Koren 2010; Surprise's KNNBaseline).

    r_hat(u, i) = b_ui + sum_j s_ij (r_uj - b_uj) / sum_j s_ij,   b_ui = mu + b_u + b_i,

over the ``n_neighbors`` items j rated by u with the highest positive similarity to i. Unlike the
report's CF, only observed ratings enter: s_ij is the Pearson-baseline correlation rho_ij (cosine
of the baseline residuals over the n_ij users who rated both), shrunk towards 0 by ``shrinkage``
(lambda) one of two ways (``similarity``):

- ``"pearson_baseline"``: Surprise's, rho_ij (n_ij - 1) / (n_ij - 1 + lambda), 0 below 2 common
  users (a single co-rater gives rho = +-1, pure noise: its factor is 0).
- ``"koren"``: Koren 2008's, rho_ij n_ij / (n_ij + lambda), every co-rated pair.

Both are 0 below ``min_support`` common users. Only the top ``n_stored`` positive neighbours of
each item are kept (items x n_stored, never items x items), so a user's candidates for item i are
the items they rated among i's stored neighbours; with ``n_stored`` >= every item's number of
positive neighbours this is exactly Surprise's rule, with ``n_stored == n_neighbors`` it is
Koren's R^k(i; u) = R(u) & S^k(i). Which predicts better depends on the data, so the run tunes
similarity, shrinkage and n_stored (scoring.registry.MODELS; figures in bench/notes.md).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender, chunks_by_weight
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.data import Ratings
from models_py.recommenders.sparse_rank import SparseRanker
from models_py.recommenders.topn import cell_keys, lookup

BIAS_ITERATIONS = 15
ITEM_BLOCK = 2_048  # items per block of the sparse co-rating products
MAX_CANDIDATES = 1 << 22  # (pair, neighbour) candidates held at once
SIM_DECIMALS = 12
SPARSE_BLOCK_USERS = 4_096  # users per block when ranking without dense scores
SIMILARITIES = ("pearson_baseline", "koren")


def expand_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR rows ``rows`` (repeats allowed): (owner index into rows, position in the CSR)."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    owner = np.repeat(np.arange(rows.size), lens)
    first = np.cumsum(lens) - lens
    return owner, np.arange(owner.size) - (first - starts)[owner]


def shrunk_similarity(
    rho: np.ndarray, n_common: np.ndarray, similarity: str, shrinkage: float, min_support: int
) -> np.ndarray:
    """rho shrunk by its support n_common as ``similarity`` says (module docstring); 0 below
    ``min_support``. Surprise's (n - 1) factor is 0 at one co-rater, as its floor of 2 makes it."""
    if similarity == "pearson_baseline":
        support = n_common - 1.0
    elif similarity == "koren":
        support = n_common.astype(float)
    else:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, not {similarity!r}")
    den = support + shrinkage
    factor = np.divide(support, den, out=np.zeros_like(den), where=den > 0)
    return np.where(n_common >= min_support, rho * factor, 0.0)


def _top_per_group(group: np.ndarray, sim: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k highest-sim entries within each group (ties: earlier entry first)."""
    order = np.lexsort((-sim, group))
    g = group[order]
    is_first = np.r_[True, g[1:] != g[:-1]]
    first = np.maximum.accumulate(np.where(is_first, np.arange(g.size), 0))
    keep = np.zeros(group.size, dtype=bool)
    keep[order] = (np.arange(g.size) - first) < k
    return keep


def _on_pattern(pattern: sp.csr_matrix, parts: list[sp.csr_matrix]) -> list[np.ndarray]:
    """Values of each of ``parts`` at the cells of ``pattern``, in its cell order; each part's
    cells are a subset of them (0 where a part has no entry: scipy drops products that sum to
    0). scipy lays out a product's cells by the operands' patterns only, so nearly always the
    parts' cells are the pattern's, in its order, and no sorting or key lookup is needed."""
    if all(p.nnz == pattern.nnz and np.array_equal(p.indices, pattern.indices) for p in parts):
        return [p.data for p in parts]
    pattern.sort_indices()
    keys = cell_keys(pattern)
    for p in parts:
        p.sort_indices()
    return [lookup(cell_keys(p), p.data, keys)[1] for p in parts]


def _cells(row: np.ndarray, item: np.ndarray, n_rows: int, n_items: int) -> tuple[np.ndarray, ...]:
    """(sorted unique row * n_items + item, each entry's index into them) of entries whose
    ``row`` is non-decreasing: np.unique's answer from sorting items within each row (scipy's
    sort_indices; entries of one cell need no order) instead of every key."""
    indptr = np.searchsorted(row, np.arange(n_rows + 1))
    m = sp.csr_matrix((np.arange(row.size), item, indptr), shape=(n_rows, n_items))
    m.sort_indices()
    by_row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(m.indptr))
    key = by_row * n_items + m.indices
    first = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, dtype=bool)
    group = np.empty(row.size, dtype=np.int64)
    group[m.data] = np.cumsum(first) - 1
    return key[first], group


class KNNBaseline(RatingRecommender):
    """Neighbourhood model on baseline residuals with shrunk Pearson-baseline item similarities."""

    # reverse_neighbors_: row j lists the items i that keep j as a neighbour, read by used j.
    PARTS = {
        "user_bias_": "influencer",
        "item_bias_": "song",
        "reverse_neighbors_": "song_pairs",
        "n_stored_": "settings",
    }

    def __init__(
        self,
        n_neighbors: int = 40,
        similarity: str = "pearson_baseline",
        shrinkage: float = 100.0,
        min_support: int = 1,
        reg_user: float = 0.5,
        reg_item: float = 15.0,
        n_stored: int = 100,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.similarity = similarity
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
        z = sp.csr_matrix((resid, csr.indices, csr.indptr), shape=csr.shape)
        self.neighbors_, self.similarities_ = self._neighbours(z)
        k = self.neighbors_.shape[1]
        # j -> (i, s_ij) for scoring all items of a user.
        stored = self.neighbors_ >= 0
        i_idx = np.repeat(np.arange(self.n_items_), stored.sum(axis=1))
        j_idx, s = self.neighbors_[stored], self.similarities_[stored]
        self.reverse_neighbors_ = sp.csr_matrix(
            (s, (j_idx, i_idx)), shape=(self.n_items_, self.n_items_)
        )
        self.n_stored_ = k
        self._derive_parts()

    def _derive_parts(self) -> None:
        used = self.used_
        rows = np.repeat(np.arange(used.shape[0]), np.diff(used.indptr))
        self.residuals_ = used.data - self._baseline(rows, used.indices)  # aligned with used_
        # (i, j) -> s_ij for pair predictions.
        pairs = self.reverse_neighbors_.tocoo()
        keys = pairs.col.astype(np.int64) * self.n_items_ + pairs.row
        order = np.argsort(keys)
        self.neighbor_keys_, self.neighbor_sims_ = keys[order], pairs.data[order]
        # Songs by b_i desc, then code asc: the ranker's candidate order.
        self.item_order_ = np.lexsort((np.arange(self.n_items_), -self.item_bias_))

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
            num, sq_i, sq_j = _on_pattern(support, [zt[rows] @ z, z2t[rows] @ b, bt[rows] @ z2])
            den = np.sqrt(sq_i * sq_j)
            keys = cell_keys(support)
            n_ij = support.data
            rho = np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), -1.0, 1.0)
            sim = shrunk_similarity(rho, n_ij, self.similarity, self.shrinkage, self.min_support)
            # Rounded so that mathematically equal similarities (common with 1-2 co-raters) tie
            # exactly; ties then go to the lower item code, reproducibly.
            sim = np.round(sim, SIM_DECIMALS)
            i = keys // n + start
            j = keys % n
            keep = (sim > 0) & (i != j)
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
        k = int(self.n_neighbors)
        big = np.bincount(group)[group] > k if group.size else np.zeros(0, dtype=bool)
        if big.any():  # only the groups over k candidates need their top k picked
            keep = np.ones(group.size, dtype=bool)
            keep[big] = _top_per_group(group[big], sim[big], k)
            group, sim, resid = group[keep], sim[keep], resid[keep]
        num = np.bincount(group, sim * resid, n_groups)
        den = np.bincount(group, sim, n_groups)
        return np.divide(num, den, out=np.zeros(n_groups), where=den > 0)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        out = self._baseline(user, item)
        n_rated = np.diff(self.used_.indptr)[user]
        for part in chunks_by_weight(n_rated, MAX_CANDIDATES):
            u, i = user[part], item[part]
            owner, pos = expand_rows(self.used_.indptr, u)  # every item j the user rated
            want = i[owner].astype(np.int64) * self.n_items_ + self.used_.indices[pos]
            found, sim = lookup(self.neighbor_keys_, self.neighbor_sims_, want)
            out[part] += self._correction(
                owner[found], sim[found], self.residuals_[pos[found]], u.size
            )
        return out

    def _correction_cells(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row * n_items + item, correction) of the cells of ``users`` (rows of the block) that
        have candidates, keys ascending; every other cell's correction is 0. The groups are
        numbered compactly, in the order of their keys: the same sums, in the same order, as
        one group per users x items cell."""
        rev = self.reverse_neighbors_
        # Candidates per user = sum over their rated items j of how many items list j.
        rated = self.used_[users]  # a copy: safe to overwrite its data
        rated.data = np.ones_like(rated.data)
        weight = rated @ np.diff(rev.indptr)
        keys, corrs = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        for part in chunks_by_weight(weight, MAX_CANDIDATES):
            u = users[part]
            owner, pos = expand_rows(self.used_.indptr, u)  # (user row, rated item j)
            owner2, pos2 = expand_rows(rev.indptr, self.used_.indices[pos])  # items i listing j
            cell, group = _cells(owner[owner2], rev.indices[pos2], u.size, self.n_items_)
            keys.append(cell + part.start * self.n_items_)
            corrs.append(
                self._correction(group, rev.data[pos2], self.residuals_[pos[owner2]], cell.size)
            )
        return np.concatenate(keys), np.concatenate(corrs)

    def _corrections(self, users: np.ndarray) -> sp.csr_matrix:
        """The corrections of ``users`` as users x items (cells without candidates: none)."""
        keys, corr = self._correction_cells(users)
        n_items = self.n_items_
        indptr = np.searchsorted(keys, np.arange(users.size + 1) * n_items)
        return sp.csr_matrix((corr, keys % n_items, indptr), shape=(users.size, n_items))

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        out = self._baseline(users[:, None], np.arange(self.n_items_)[None, :])
        keys, corr = self._correction_cells(users)
        out.reshape(-1)[keys] += corr  # the rest add 0
        return out

    def ranker(self) -> SparseRanker:
        """(mu + b_u) + b_i off the neighbours of the user's songs, plus their correction."""
        return SparseRanker(
            self.item_bias_,
            self.item_order_,
            self._corrections,
            lambda users: self.global_mean_ + self.user_bias_[users],
            SPARSE_BLOCK_USERS,
        )
