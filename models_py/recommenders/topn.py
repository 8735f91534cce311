"""Top-n of score arrays, ties by song code, and the one way songs are left out of a ranking.

Every ranking in the package orders a user's songs by score desc, then song code asc, with
-inf / nan meaning "not available": ``top_n`` for a dense block, ``top_n_of_songs`` for a block
over some songs, ``top_entries`` for scattered (row, song, score) entries. Songs a user may not
be recommended (``excluded``: one CSR row per user, any stored cell, explicit zeros included)
are taken out by ``mask_excluded`` or ``excluded_at`` and nowhere else.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

MAX_BLOCK_USERS = 2_048
# Cap on cells of one dense users x songs block. 24 MB of float64 stays under glibc's largest
# mmap threshold (32 MB), so freed blocks are reused from the heap instead of being page-faulted
# in afresh each time.
MAX_BLOCK_CELLS = 3_000_000


def block_rows(n_items: int, max_rows: int = MAX_BLOCK_USERS) -> int:
    """Users per dense block so that a block stays within MAX_BLOCK_CELLS."""
    return max(1, min(max_rows, MAX_BLOCK_CELLS // max(n_items, 1)))


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


def excluded_cells(
    excluded: sp.csr_matrix, songs: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the cells of a users x songs block (one row per row of ``excluded``)
    that hold an excluded song. The block's columns are every song by default, or ``songs``:
    sorted codes, the same for every row (1-D) or one sorted row per row (2-D; cells that are
    -1 or repeat a song are never hit)."""
    row = np.repeat(np.arange(excluded.shape[0]), np.diff(excluded.indptr))
    song = excluded.indices
    if songs is None:
        return row, song
    if songs.size == 0:
        return row[:0], song[:0]
    if songs.ndim == 1:
        pos = np.minimum(np.searchsorted(songs, song), songs.size - 1)
        hit = songs[pos] == song
        return row[hit], pos[hit]
    # Rows in order and songs sorted within each: one sorted key per cell (-1 sorts first).
    width = excluded.shape[1] + 1
    keys = (np.arange(songs.shape[0])[:, None] * width + songs + 1).ravel()
    want = row * width + song + 1
    at = np.minimum(np.searchsorted(keys, want), keys.size - 1)
    at = at[keys[at] == want]
    return at // songs.shape[1], at % songs.shape[1]


def mask_excluded(
    scores: np.ndarray, excluded: sp.csr_matrix | None, songs: np.ndarray | None = None
) -> np.ndarray:
    """``scores`` with the cells of excluded songs at -inf (``excluded_cells``)."""
    if excluded is not None and excluded.nnz and scores.size:
        scores[excluded_cells(excluded, songs)] = -np.inf
    return scores


def excluded_at(excluded: sp.csr_matrix | None, row: np.ndarray, song: np.ndarray) -> np.ndarray:
    """Whether each (row, song) pair is a stored cell of ``excluded``."""
    if excluded is None or excluded.nnz == 0:
        return np.zeros(row.size, dtype=bool)
    return np.isin(row.astype(np.int64) * excluded.shape[1] + song, cell_keys(excluded))


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
        # they are also argpartition's slow case (many equal values).
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


def top_n_of_songs(
    scores: np.ndarray, songs: np.ndarray, excluded: sp.csr_matrix | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``top_n`` of a users x songs block whose columns are the sorted codes ``songs`` (so ties
    by column are ties by code), the ``excluded`` songs (one row per user) left out. Returns
    song codes; overwrites ``scores``."""
    mask_excluded(scores, excluded, songs)
    ids, vals = top_n(scores, n, True)
    return np.where(ids >= 0, songs[np.maximum(ids, 0)], -1).astype(np.int32), vals


def nth_largest(row: np.ndarray, val: np.ndarray, n: int) -> np.ndarray:
    """Per row (rows < 32,768), its n-th largest value; -inf for rows with fewer than n entries.
    Rows are bucketed by length (powers of two) and each bucket partitioned as a padded block:
    linear in the entries, where sorting them all is not."""
    n_rows = int(row.max()) + 1 if row.size else 0
    out = np.full(n_rows, -np.inf)
    counts = np.bincount(row, minlength=n_rows)
    big = np.flatnonzero(counts >= max(n, 1))
    if n <= 0 or big.size == 0:
        return out
    ends = np.cumsum(counts)
    by_row = val[np.argsort(row.astype(np.int16), kind="stable")]
    width = np.left_shift(1, np.ceil(np.log2(counts[big])).astype(np.int64))
    for w in np.unique(width):
        rows = big[width == w]
        lens = counts[rows]
        at = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        block = np.full((rows.size, int(w)), np.inf)  # negated: padding sorts last
        block[np.repeat(np.arange(rows.size), lens), at] = -by_row[
            np.repeat(ends[rows] - lens, lens) + at
        ]
        out[rows] = -np.partition(block, n - 1, axis=1)[:, n - 1]
    return out


def top_entries(
    row: np.ndarray, col: np.ndarray, val: np.ndarray, n: int, col_sorted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's n best entries (rows < 32,768) by value desc, then column asc, as (row, col,
    value) sorted that way. Entries below their row's n-th largest value are dropped first
    (``nth_largest``: sorting every entry costs more); the rest get stable sorts, the row pass a
    radix sort on int16 (a 3-key lexsort is several times slower). ``col_sorted``: the entries
    are already in (row, column) order."""
    if n > 0 and row.size > n and not np.isnan(val).any():
        keep = val >= nth_largest(row, val, n)[row]
        if not keep.all():
            row, col, val = row[keep], col[keep], val[keep]
    order = np.argsort(col, kind="stable") if not col_sorted else np.arange(col.size)
    order = order[np.argsort(-val[order], kind="stable")]
    order = order[np.argsort(row[order].astype(np.int16), kind="stable")]
    row, col, val = row[order], col[order], val[order]
    rank = np.arange(row.size) - np.searchsorted(row, row)
    keep = rank < n
    return row[keep], col[keep], val[keep]
