"""The ranker of scores that are a per-song base, a per-user offset and a few sparse cells.

Item KNN scores a song by its similarities to the user's songs (sparse: only neighbours of used
songs) plus a popularity tie-break; KNNBaseline by mu + b_u + b_i plus a correction on the
neighbours of the user's songs. Off its cells every song of a user scores (offset + base)
exactly, so the candidate order is the songs by base, the cells are the user's sparse entries,
and the ceiling of the songs after the first m is offset + base[order[m]] itself, with no
rounding to allow for: rounding is monotonic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.ranking import Cells


@dataclass(frozen=True)
class SparseRanker:
    """Scores (offset[u] + base[i]) + cells[u, i], where ``cells(users)`` holds each user's
    sparse part (users x songs, at most one entry per cell, as a sparse product gives it;
    songs it does not store add nothing) and ``offset`` is None for none: the arithmetic of
    the models' dense scores."""

    base: np.ndarray
    base_order: np.ndarray  # songs by base desc, then code asc
    cells: Callable[[np.ndarray], sp.csr_matrix]
    offset: Callable[[np.ndarray], np.ndarray] | None = None
    users_per_block: int = 4_096

    per_song = False
    shortlist = False

    def order(self) -> np.ndarray:
        return self.base_order

    def first_level(self, n: int, n_excluded: np.ndarray) -> int:
        # The n-th best is usually a cell; enough songs by base to fill in for the rest.
        return 2 * n + int(np.percentile(n_excluded, 90)) + 16

    def block_users(self) -> int:
        return self.users_per_block

    def block(self, users: np.ndarray) -> _SparseBlock:
        offset = self.offset(users) if self.offset is not None else None
        return _SparseBlock(self, offset, sp.csr_matrix(self.cells(users)))


class _SparseBlock:
    def __init__(
        self, ranker: SparseRanker, offset: np.ndarray | None, sparse: sp.csr_matrix
    ) -> None:
        self.ranker, self.offset, self.sparse = ranker, offset, sparse

    def _head(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        """offset + base of rows x songs, a new array."""
        base = self.ranker.base[songs]
        if self.offset is None:
            return np.repeat(base[None, :], rows.size, axis=0)
        return self.offset[rows, None] + base[None, :]

    def scores(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        out = self._head(rows, songs)
        part = self.sparse[rows]
        row = np.repeat(np.arange(rows.size), np.diff(part.indptr))
        column = np.full(self.ranker.base.size, -1)
        column[songs] = np.arange(songs.size)
        pos = column[part.indices]
        hit = pos >= 0
        out[row[hit], pos[hit]] += part.data[hit]
        return out

    @cached_property
    def _cells(self) -> Cells:
        row = np.repeat(np.arange(self.sparse.shape[0]), np.diff(self.sparse.indptr))
        song = self.sparse.indices
        head = self.ranker.base[song]
        if self.offset is not None:
            head = self.offset[row] + head
        return row, song, head + self.sparse.data  # the cap is the exact score

    def cells(self) -> Cells:
        return self._cells

    def cell_scores(self, which: np.ndarray) -> np.ndarray:
        return self._cells[2][which]

    def ceiling(self, rows: np.ndarray, m: int) -> np.ndarray:
        b_out = self.ranker.base[self.ranker.base_order[m]]
        if self.offset is None:
            return np.full(rows.size, b_out)
        return self.offset[rows] + b_out
