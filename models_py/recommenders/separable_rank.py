"""The ranker of scores mu + b_u + b_i (+ p_u . q_i): bias and MF models.

Such a model scores a song mostly by its bias b_i, so a user's n best songs are almost always
among the songs of highest b_i: the candidate order is the songs by b_i. Any song after the
first m scores at most mu + b_u + b_out + |p_u| * max_out |q_i| (b_out, max_out over the songs
from position m on), the ceiling. There are no cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models_py.recommenders import ranking
from models_py.recommenders.ranking import NO_CELLS, Cells
from models_py.recommenders.topn import MAX_BLOCK_USERS

TILE_CELLS = 1 << 17  # cells of one factor_dot tile


def rank_index(item_bias: np.ndarray, item_factors: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(items by bias desc then code asc, norm_after): norm_after[m] is the largest |q_i| over
    order[m:], 0 past the end (and for bias-only models)."""
    order = np.lexsort((np.arange(item_bias.size), -item_bias))
    norm_after = np.zeros(item_bias.size + 1)
    if item_factors is not None and item_factors.shape[1]:
        norms = np.sqrt(np.einsum("ij,ij->i", item_factors, item_factors))[order]
        norm_after[:-1] = np.maximum.accumulate(norms[::-1])[::-1]
    return order, norm_after


def factor_dot(user_factors: np.ndarray, item_factors: np.ndarray) -> np.ndarray:
    """user_factors @ item_factors.T summed factor by factor in a fixed order: each cell's float
    is then the same whichever songs, users or threads it is computed with, which BLAS does not
    promise (it can differ by an ulp with the shape); ranking on a subset of songs must
    reproduce the dense scores exactly. In row tiles that stay in cache."""
    n_rows, k = user_factors.shape
    out = np.zeros((n_rows, item_factors.shape[0]))
    if k == 0 or out.size == 0:
        return out
    q = np.ascontiguousarray(item_factors.T)
    step = max(1, TILE_CELLS // q.shape[1])
    tmp = np.empty((min(step, n_rows), q.shape[1]))
    for r in range(0, n_rows, step):
        p, o = user_factors[r : r + step], out[r : r + step]
        t = tmp[: o.shape[0]]
        np.multiply(p[:, 0, None], q[0], out=o)
        for f in range(1, k):
            np.multiply(p[:, f, None], q[f], out=t)
            o += t
    return out


def separable_scores(
    global_mean: float,
    user_bias: np.ndarray,
    item_bias: np.ndarray,
    users: np.ndarray,
    songs: np.ndarray | None = None,
    user_factors: np.ndarray | None = None,
    item_factors: np.ndarray | None = None,
) -> np.ndarray:
    """users x songs (every song by default) of global_mean + b_u + b_i (+ p_u . q_i): the
    models' dense scores and their ranker's, the same floats for any songs."""
    b_i = item_bias if songs is None else item_bias[songs]
    if user_factors is None or item_factors is None:
        return global_mean + user_bias[users, None] + b_i[None, :]
    q = item_factors if songs is None else item_factors[songs]
    out = factor_dot(user_factors[users], q)
    out += global_mean + user_bias[users, None] + b_i[None, :]
    return out


@dataclass(frozen=True)
class SeparableRanker:
    """Ranks ``separable_scores`` of these terms."""

    global_mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    item_order: np.ndarray  # rank_index
    norm_after: np.ndarray  # rank_index
    user_factors: np.ndarray | None = None
    item_factors: np.ndarray | None = None

    per_song = True
    shortlist = False

    def order(self) -> np.ndarray:
        return self.item_order

    def first_level(self, n: int, n_excluded: np.ndarray) -> int:
        # Enough songs for the n-th best to be unused for nearly every user, and some to spare.
        return 2 * n + int(np.percentile(n_excluded, 90)) + 16

    def block_users(self) -> int:
        return MAX_BLOCK_USERS

    def block(self, users: np.ndarray) -> _SeparableBlock:
        return _SeparableBlock(self, users)


class _SeparableBlock:
    def __init__(self, ranker: SeparableRanker, users: np.ndarray) -> None:
        self.ranker, self.users = ranker, users
        self.offset = ranker.global_mean + ranker.user_bias[users]
        p_u = ranker.user_factors[users] if ranker.user_factors is not None else None
        self.user_norm = (
            np.sqrt(np.einsum("ij,ij->i", p_u, p_u)) if p_u is not None else np.zeros(users.size)
        )

    def scores(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        r = self.ranker
        every = songs.size == r.item_bias.size  # sorted and distinct: all of them
        return separable_scores(
            r.global_mean,
            r.user_bias,
            r.item_bias,
            self.users[rows],
            None if every else songs,
            r.user_factors,
            r.item_factors,
        )

    def cells(self) -> Cells:
        return NO_CELLS

    def cell_scores(self, which: np.ndarray) -> np.ndarray:
        return np.zeros(which.size)

    def ceiling(self, rows: np.ndarray, m: int) -> np.ndarray:
        b_out = self.ranker.item_bias[self.ranker.item_order[m]]
        reach = self.user_norm[rows] * self.ranker.norm_after[m]
        offset = self.offset[rows]
        return offset + b_out + reach + ranking.SLACK * (np.abs(offset) + abs(b_out) + reach + 1.0)
