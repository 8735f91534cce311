"""Exact top-n for scores offset_u + b_i + p_u . q_i without ranking every user x song cell.

Bias and MF models score a song mostly by its bias b_i. A user's n best songs are then almost
always among the M songs with the highest b_i: any other song scores at most
offset_u + b_out + |p_u| * max_out |q_i| (b_out, max_out over the songs left out). Each user's
scores are computed exactly on those M songs and ranked as ``base.top_n`` ranks them; users whose
n-th best does not clear that bound (or who used most of the M) are retried with 4x the songs,
and at the end ranked on all songs by the dense path. At 10M rows this replaces ~1e11 dense cells
per pass with ~1e6 users x a few dozen songs.

A model opts in by providing ``_rank_index`` (b_i, items by b_i desc then code asc, and the
largest |q_i| from each position of that order on), ``_bound_terms`` (offset_u, |p_u|) and
``_score_items`` (scores of some users on some songs with exactly the arithmetic of
``_score_block``, so that both paths give the same floats).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import (
    MAX_BLOCK_CELLS,
    MAX_BLOCK_USERS,
    RatingRecommender,
    block_rows,
    top_n_of_candidates,
)

# Relative slack on the bound for the rounding of the scores' float arithmetic (a few ulps);
# a user within it of the bound is just retried, so it costs time, never exactness.
SLACK = 1e-9
TILE_CELLS = 1 << 17  # cells of one factor_dot tile
GROWTH = 4  # candidates multiply by this for the users whose bound failed


class Separable(Protocol):
    n_items_: int

    def _rank_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def _bound_terms(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def _score_items(self, users: np.ndarray, items: np.ndarray | None) -> np.ndarray: ...


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
    promise (measured: 1-ulp differences by shape); ranking on a subset of songs must reproduce
    the dense scores exactly. In row tiles of ~1 MB that stay in cache: ~7x faster than whole
    blocks, close to BLAS at k=8 (measured)."""
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


def dense_top_n(
    model: RatingRecommender,
    users: np.ndarray,
    n: int,
    exclude_used: bool,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The base class's dense ranking, in blocks that keep users x songs within the cap."""
    ids = np.full((users.size, n), -1, dtype=np.int32)
    vals = np.full((users.size, n), np.nan)
    step = block_rows(model.n_items_)
    for s in range(0, users.size, step):
        ids[s : s + step], vals[s : s + step] = RatingRecommender._top_n_block(
            model, users[s : s + step], n, exclude_used, candidates
        )
    return ids, vals


def _among_top(
    model: Separable,
    used: sp.csr_matrix | None,
    users: np.ndarray,
    n: int,
    m: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-n of ``users`` among the m songs of highest bias, and whether that is their top-n of
    all songs. ``used``: the fit ratings (users x songs) to leave out, or None."""
    item_bias, order, norm_after = model._rank_index()
    cand = np.sort(order[:m])  # by code: top_n's ties by column are then ties by code
    scores = model._score_items(users, cand)
    ids, vals = top_n_of_candidates(scores, cand, used[users] if used is not None else None, n)
    if m == item_bias.size:
        return ids, vals, np.ones(users.size, dtype=bool)
    offset, user_norm = model._bound_terms(users)
    b_out, reach = item_bias[order[m]], user_norm * norm_after[m]
    bound = offset + b_out + reach
    slack = SLACK * (np.abs(offset) + abs(b_out) + reach + 1.0)
    # A song left out scores <= bound; ranking below the n-th needs a strict margin (a tie could
    # go to the left-out song by its code). nan (fewer than n found) fails too.
    return ids, vals, vals[:, n - 1] > bound + slack


def separable_top_n(
    model: Separable,
    users: np.ndarray,
    n: int,
    exclude_used: bool,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``recommend`` for a block of users, the same as the dense ranking, cell for cell. With a
    ``candidates`` shelf it ranks densely (small shelves are what the run passes)."""
    n_items = model.n_items_
    if candidates is not None or n == 0 or n_items == 0:
        return dense_top_n(model, users, n, exclude_used, candidates)  # type: ignore[arg-type]
    ids = np.full((users.size, n), -1, dtype=np.int32)
    vals = np.full((users.size, n), np.nan)
    used = model.used_ if exclude_used else None  # type: ignore[attr-defined]
    n_used = np.diff(used.indptr)[users] if used is not None else np.zeros(users.size, int)
    pending = np.arange(users.size)
    # Enough songs for the n-th best to be unused for nearly every user, and some to spare;
    # beyond a quarter of the songs the dense path is as cheap.
    m = min(n_items, 2 * n + int(np.percentile(n_used, 90)) + 16)
    while pending.size and (m == n_items or m <= n_items // GROWTH):
        step = max(1, MAX_BLOCK_CELLS // m)
        done = np.zeros(pending.size, dtype=bool)
        for s in range(0, pending.size, step):
            rows = pending[s : s + step]
            got_ids, got_vals, ok = _among_top(model, used, users[rows], n, m)
            ids[rows[ok]], vals[rows[ok]], done[s : s + step] = got_ids[ok], got_vals[ok], ok
        pending = pending[~done]
        m = n_items + 1 if m == n_items else min(n_items, m * GROWTH)
    if pending.size:
        ids[pending], vals[pending] = dense_top_n(
            model,  # type: ignore[arg-type]
            users[pending],
            n,
            exclude_used,
        )
    return ids, vals


class SeparableRanking:
    """Mixin for a RatingRecommender scoring mu + b_u + b_i (+ p_u . q_i): ``recommend`` by
    ``separable_top_n``. It needs ``item_bias_``, ``item_order_`` and ``item_norm_after_`` (from
    ``rank_index`` at fit), ``_bound_terms`` and ``_score_items``."""

    def _rank_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.item_bias_, self.item_order_, self.item_norm_after_  # type: ignore[attr-defined]

    def _recommend_block_rows(self) -> int:
        return MAX_BLOCK_USERS  # separable_top_n bounds its own dense blocks

    def _top_n_block(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return separable_top_n(self, users, n, exclude_used, candidates)  # type: ignore[arg-type]
