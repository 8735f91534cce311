"""The one exact top-n: score a few songs per user exactly, bound the rest, grow, fall back.

Ranking every user against every song costs users x songs cells per pass. Most models can do
with far fewer: a model's ``ranker()`` (see ``Ranker``) gives

- a candidate order: songs in the order they become candidates, the same for every user (by a
  per-song score: bias, appeal, popularity), plus each user's *cells*, songs off that order the
  user may still rank highly (neighbours of their songs, songs sharing a rare feature);
- an exact scorer: the scores of candidates, the very floats of the model's dense scores;
- a ceiling: no song that is neither among the first m of the order nor a cell of the user
  scores above it.

``exact_top_n`` ranks a block of users in levels. At level m each user's candidates are the
first m songs of the order (scored as one dense users x m block) and their cells (scored pair
by pair, those whose cap can reach the user's n-th best so far). A user whose n-th best is
strictly above the ceiling is settled: no song left out can beat it or tie it (a tie could go
to the left-out song by its code). The others try GROWTH x the songs while their n-th best
already clears the next level's ceiling (or they have fewer than n); the rest fall back to the
dense ranking, every song scored by the same exact scorer. The result is the dense ranking's,
cell for cell, ties by code included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.topn import (
    MAX_BLOCK_CELLS,
    excluded_at,
    top_entries,
    top_n_of_songs,
)

# Relative margin a ceiling adds for the rounding of the scores' float arithmetic (a few ulps);
# a user within it of the ceiling is just tried again, so it costs time, never exactness.
SLACK = 1e-9
GROWTH = 4  # candidates multiply by this for the users a level did not settle
# Below this share of users settled (the first block tells), the rest are ranked on every
# song at once: the levels cost more than that when they fail.
MIN_SETTLED = 0.5
MAX_RANK_BLOCK = (1 << 15) - 1  # top_entries sorts rows as int16

Cells = tuple[np.ndarray, np.ndarray, np.ndarray]  # (row, song, cap >= the cell's score)
NO_CELLS: Cells = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
TopN = tuple[np.ndarray, np.ndarray]  # (int32 song codes, float64 scores), each users x n


class RankBlock(Protocol):
    """What a ranker knows about one block of users (``rows`` index into the block)."""

    def scores(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        """A new rows x songs array (``songs`` sorted codes): the dense scores' floats."""
        ...

    def cells(self) -> Cells:
        """Each user's songs off the order, with a cap on each cell's score."""
        ...

    def cell_scores(self, which: np.ndarray) -> np.ndarray:
        """The exact scores of the cells at positions ``which``."""
        ...

    def ceiling(self, rows: np.ndarray, m: int) -> np.ndarray:
        """Per row, a float no song scores above that is neither in order[:m] nor a cell."""
        ...


class Ranker(Protocol):
    """A fitted model's exact ranking without dense scores (see the module docstring)."""

    @property
    def per_song(self) -> bool:
        """Whether a song's score is mostly its per-song term (biases): the songs first in
        ``order()`` are then near the top for everyone."""
        ...

    @property
    def shortlist(self) -> bool:
        """At catalogue scale (shortlist_rank): a user the ceiling does not settle keeps the top
        of the songs scored for them instead of being ranked densely."""
        ...

    def order(self) -> np.ndarray:
        """Every song, in the order they become candidates (per-song score desc, code asc)."""
        ...

    def first_level(self, n: int, n_excluded: np.ndarray) -> int:
        """Candidates from the order to try first, for lists of n (excluded songs per user)."""
        ...

    def block_users(self) -> int:
        """Users per block (at most MAX_RANK_BLOCK)."""
        ...

    def block(self, users: np.ndarray) -> RankBlock: ...


@dataclass(frozen=True)
class Wrapped:
    """Ranks as ``inner`` does but for what its blocks give (``block``)."""

    inner: Ranker

    @property
    def per_song(self) -> bool:
        return self.inner.per_song

    @property
    def shortlist(self) -> bool:
        return self.inner.shortlist

    def order(self) -> np.ndarray:
        return self.inner.order()

    def first_level(self, n: int, n_excluded: np.ndarray) -> int:
        return self.inner.first_level(n, n_excluded)

    def block_users(self) -> int:
        return self.inner.block_users()

    def block(self, users: np.ndarray) -> RankBlock:
        return self.inner.block(users)


@dataclass(frozen=True)
class Shifted(Wrapped):
    """``inner``'s ranking of scores plus a per-user offset (offset[u] + inner score: adding
    the same float to a user's scores keeps their order, and rounds monotonically)."""

    offset: Callable[[np.ndarray], np.ndarray]  # user codes -> offsets

    def block(self, users: np.ndarray) -> RankBlock:
        return _ShiftedBlock(self.inner.block(users), self.offset(users))


@dataclass(frozen=True)
class _ShiftedBlock:
    inner: RankBlock
    offset: np.ndarray

    def scores(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        return self.offset[rows, None] + self.inner.scores(rows, songs)

    def cells(self) -> Cells:
        row, song, cap = self.inner.cells()
        return row, song, self.offset[row] + cap

    def cell_scores(self, which: np.ndarray) -> np.ndarray:
        return self.offset[self.inner.cells()[0][which]] + self.inner.cell_scores(which)

    def ceiling(self, rows: np.ndarray, m: int) -> np.ndarray:
        return self.offset[rows] + self.inner.ceiling(rows, m)


def empty_top_n(users: int, n: int) -> TopN:
    return np.full((users, n), -1, dtype=np.int32), np.full((users, n), np.nan)


def shelf_top_n(
    ranker: Ranker, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray
) -> TopN:
    """Top-n among the songs of a ``shelf`` (bool per song) alone, scored exactly."""
    ids, vals = empty_top_n(users.size, n)
    songs = np.flatnonzero(shelf)
    if n == 0 or songs.size == 0:
        return ids, vals
    step = max(1, MAX_BLOCK_CELLS // songs.size)
    for start in range(0, users.size, ranker.block_users()):
        who = users[start : start + ranker.block_users()]
        block = ranker.block(who)
        for s in range(0, who.size, step):
            rows = np.arange(s, min(s + step, who.size))
            at = rows + start
            ex = excluded[who[rows]] if excluded is not None else None
            ids[at], vals[at] = top_n_of_songs(block.scores(rows, songs), songs, ex, n)
    return ids, vals


def exact_top_n(ranker: Ranker, users: np.ndarray, n: int, excluded: sp.csr_matrix | None) -> TopN:
    """Top-n of ``users`` (the ``excluded`` songs, users x songs, left out), equal to the dense
    ranking: the levels, then every song for the users they leave (or for all, when levels
    cannot pay)."""
    ids, vals = empty_top_n(users.size, n)
    order = ranker.order()
    n_items = order.size
    if n == 0 or users.size == 0 or n_items == 0:
        return ids, vals
    n_excluded = np.diff(excluded.indptr)[users] if excluded is not None else np.zeros(1, int)
    m = min(n_items, ranker.first_level(n, n_excluded))
    if m > n_items // GROWTH:  # a quarter of the songs: every song is as cheap
        m = n_items
    rank = np.empty(n_items, dtype=np.int64)
    rank[order] = np.arange(n_items)
    step = min(ranker.block_users(), MAX_RANK_BLOCK)
    settled = 0
    for s in range(0, users.size, step):
        if not ranker.shortlist and s and settled < MIN_SETTLED * s:
            m = n_items  # the levels fail these scores: rank the rest on every song
        rows = slice(s, s + step)
        sub = excluded[users[rows]] if excluded is not None else None
        ids[rows], vals[rows], done = _levels(ranker, users[rows], n, sub, order, rank, m)
        settled += done
    return ids, vals


def _levels(
    ranker: Ranker,
    users: np.ndarray,
    n: int,
    excluded: sp.csr_matrix | None,
    order: np.ndarray,
    rank: np.ndarray,
    m: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(ids, scores, users the levels settled) of one block, level by level from ``m``
    candidates; the users they leave are ranked on every song."""
    n_items = order.size
    ids, vals = empty_top_n(users.size, n)
    done = np.zeros(users.size, dtype=bool)
    block = ranker.block(users)
    cells = block.cells() if m < n_items else NO_CELLS
    # Users with cells over a quarter of the songs: every song is as cheap.
    crowded = np.bincount(cells[0], minlength=users.size) > n_items // GROWTH
    pending = np.flatnonzero(~crowded)
    while pending.size and m < n_items:
        got_ids, got_vals = _level(block, cells, pending, n, excluded, order, rank, m)
        nth = got_vals[:, n - 1]
        ok = nth > block.ceiling(pending, m)  # nan (fewer than n) fails
        retry = np.zeros(pending.size, dtype=bool)
        if m * GROWTH <= n_items // GROWTH:
            retry = ~ok & (np.isnan(nth) | (nth > block.ceiling(pending, m * GROWTH)))
        keep = ok | (ranker.shortlist & ~retry)  # a shortlist: the songs scored so far
        ids[pending[keep]], vals[pending[keep]] = got_ids[keep], got_vals[keep]
        done[pending[keep]] = True
        pending = pending[retry]
        m *= GROWTH
    settled = int(done.sum())
    left = np.flatnonzero(~done)
    if left.size:
        ids[left], vals[left] = _level(block, NO_CELLS, left, n, excluded, order, rank, n_items)
    return ids, vals, settled


def _level(
    block: RankBlock,
    cells: Cells,
    pending: np.ndarray,
    n: int,
    excluded: sp.csr_matrix | None,
    order: np.ndarray,
    rank: np.ndarray,
    m: int,
) -> TopN:
    """Top-n of the ``pending`` rows among the first m songs of the order and their cells."""
    # By code: top_n's ties by column are then ties by code.
    songs = np.sort(order[:m]) if m < order.size else np.arange(m)
    ids, vals = empty_top_n(pending.size, n)
    step = max(1, MAX_BLOCK_CELLS // m)
    for s in range(0, pending.size, step):
        rows = pending[s : s + step]
        ex = excluded[rows] if excluded is not None else None
        ids[s : s + step], vals[s : s + step] = top_n_of_songs(
            block.scores(rows, songs), songs, ex, n
        )
    row, song, cap = cells
    if row.size == 0 or m == order.size:
        return ids, vals
    at = np.full(int(row.max()) + 1, -1)
    at[pending[pending < at.size]] = np.flatnonzero(pending < at.size)
    pos = at[row]
    floor = np.nan_to_num(vals[:, n - 1], nan=-np.inf)
    # Cells off the first m songs whose cap reaches the n-th best so far (below it, n songs
    # already beat them), not excluded.
    which = np.flatnonzero(pos >= 0)
    which = which[rank[song[which]] >= m]
    which = which[cap[which] >= floor[pos[which]]]
    which = which[~excluded_at(excluded, row[which], song[which])]
    if which.size == 0:
        return ids, vals
    got = ids >= 0
    own = np.broadcast_to(np.arange(pending.size)[:, None], ids.shape)
    t_row, t_song, t_val = top_entries(
        np.r_[own[got], pos[which]],
        np.r_[ids[got], song[which]],
        np.r_[vals[got], block.cell_scores(which)],
        n,
    )
    ids, vals = empty_top_n(pending.size, n)
    slot = np.arange(t_row.size) - np.searchsorted(t_row, t_row)
    ids[t_row, slot], vals[t_row, slot] = t_song, t_val
    return ids, vals
