"""Top-n ranking of scores that are a per-item base plus a sparse part, without densifying.

For item KNN a user's score of a song is the sum of its similarities to the user's songs (sparse:
only neighbours of used songs) plus a popularity tie-break (dense, the same for every user).
Ranking 1.2e8 dense cells at 100k rows took 85% of its time; here the candidates are the sparse
entries, merged with the best songs by base value alone, which is the same ranking exactly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import cell_keys


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) of every position in the ranges [lo[o], hi[o])."""
    lens = hi - lo
    owner = np.repeat(np.arange(lo.size), lens)
    return owner, np.arange(owner.size) - (np.cumsum(lens) - lens)[owner] + lo[owner]


def lowest_free(
    owner: np.ndarray, taken: np.ndarray, need: np.ndarray, n: int, presorted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group o, the need[o] lowest codes in [0, n) not among its ``taken`` codes (no
    duplicates within a group), as (group, slot m, code): the m-th free code is
    m + #{t_j : t_j - j <= m} over the group's sorted t. ``presorted``: already by (owner, t)."""
    if not presorted:
        order = np.lexsort((taken, owner))
        owner, taken = owner[order], taken[order]
    first = np.searchsorted(owner, np.arange(need.size))
    gaps = taken - (np.arange(taken.size) - first[owner])  # free codes below each taken code
    big = n + 1
    q_owner = np.repeat(np.arange(need.size), need)
    q_m = np.arange(q_owner.size) - (np.cumsum(need) - need)[q_owner]
    below = np.searchsorted(owner * big + gaps, q_owner * big + q_m, side="right")
    code = q_m + below - first[q_owner]
    ok = code < n
    return q_owner[ok], q_m[ok], code[ok]


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


def _top_entries(
    row: np.ndarray, col: np.ndarray, val: np.ndarray, n: int, col_sorted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's n best entries by value desc, then column asc. Entries below their row's
    n-th largest value are dropped first (``nth_largest``: at 10M rows sorting every entry
    was half of item KNN's top-10); the rest get stable sorts, the row pass a radix sort on
    int16 (rows < 32,768): a 3-key lexsort was 5x slower. ``col_sorted``: the entries are
    already in (row, column) order."""
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


def _lowest_free_ranks(
    taken: list[sp.csr_matrix], base_rank: np.ndarray, n: int, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the n lowest base ranks of columns that no matrix in ``taken`` stores, as
    (row, slot, rank) like ``lowest_free``. Only stored cells of rank < ``limit`` are looked
    at; rows with fewer than n free ranks below it are redone with every rank."""
    rows, n_cols = taken[0].shape
    row = np.concatenate([np.repeat(np.arange(rows), np.diff(m.indptr)) for m in taken])
    rank = base_rank[np.concatenate([m.indices for m in taken])]
    low = rank < limit
    key = np.unique(row[low] * limit + rank[low])  # a union: sorted, each cell once
    got = lowest_free(key // limit, key % limit, np.full(rows, n), limit, presorted=True)
    short = np.flatnonzero(np.bincount(got[0], minlength=rows) < n)
    if limit >= n_cols or short.size == 0:
        return got
    done = ~np.isin(got[0], short)
    more = _lowest_free_ranks([m[short] for m in taken], base_rank, n, n_cols)
    return (
        np.r_[got[0][done], short[more[0]]],
        np.r_[got[1][done], more[1]],
        np.r_[got[2][done], more[2]],
    )


def top_n_base_plus_sparse(
    sparse: sp.csr_matrix,
    base: np.ndarray,
    n: int,
    exclude: sp.csr_matrix | None = None,
    base_order: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row r, the n best columns j by score base[j] + sparse[r, j] (desc; ties by column
    asc), leaving out the stored cells of ``exclude``. Same output as ``base.top_n`` on the dense
    scores with excluded cells at -inf: (int32 ids, float64 scores), padded with -1 / nan.
    ``base_order`` (columns by base desc, then column asc) may be passed when reused. At most
    32,767 rows per call."""
    rows, n_cols = sparse.shape
    if rows >= 1 << 15:
        raise ValueError("at most 32,767 rows per call")
    ids = np.full((rows, n), -1, dtype=np.int32)
    vals = np.full((rows, n), np.nan)
    if n == 0 or rows == 0 or n_cols == 0:
        return ids, vals
    sparse = sp.csr_matrix(sparse)
    sparse.sum_duplicates()  # canonical: sorted, one entry per cell
    keys = cell_keys(sparse)
    if exclude is not None and exclude.nnz:
        exclude = sp.csr_matrix(exclude)
        exclude.sum_duplicates()
        kept = ~np.isin(keys, cell_keys(exclude), assume_unique=True)
    else:
        exclude = None
        kept = np.ones(keys.size, dtype=bool)
    s_row, s_col = keys[kept] // n_cols, keys[kept] % n_cols
    # The rest score base[j] alone: the n best by base among columns neither stored nor
    # excluded, i.e. the lowest free ranks in base order of each row.
    if base_order is None:
        base_order = np.lexsort((np.arange(n_cols), -base))
    base_rank = np.empty(n_cols, dtype=np.int64)
    base_rank[base_order] = np.arange(n_cols)
    taken = [sparse] if exclude is None else [sparse, exclude]
    f_row, f_slot, f_rank = _lowest_free_ranks(taken, base_rank, n, min(n_cols, 4 * n + 64))
    f_col = base_order[f_rank]
    # A stored cell scoring below a row's n-th base-only score is beaten by n other columns:
    # dropped before the sort (ties kept: they may win by code). For KNNBaseline (base b_i,
    # corrections of either sign) that leaves ~1/4 of the cells to sort.
    cut = np.full(rows, -np.inf)
    last = f_slot == n - 1
    cut[f_row[last]] = base[f_col[last]]
    s_val = sparse.data[kept] + base[s_col]
    live = s_val >= cut[s_row]
    c_row, c_col, c_val = _top_entries(s_row[live], s_col[live], s_val[live], n, col_sorted=True)
    row, col, val = _top_entries(
        np.r_[c_row, f_row], np.r_[c_col, f_col], np.r_[c_val, base[f_col]], n
    )
    slot = np.arange(row.size) - np.searchsorted(row, row)
    ids[row, slot] = col
    vals[row, slot] = val
    return ids, vals


# Relative slack for the rounding between a ranking's approximate scores (base + sparse) and the
# exact ones (a per-row offset added in another order): a few ulps. A row within it of the
# cut is ranked densely by the caller: it costs time, never exactness.
RERANK_SLACK = 1e-9


def rerank_exact(
    cand: np.ndarray,
    approx: np.ndarray,
    exact: np.ndarray,
    offset: np.ndarray,
    scale: np.ndarray,
    n: int,
    n_cols: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top-n by exact score of a few candidates chosen by approximate score, and whether
    that is the top-n over all columns.

    ``cand``/``approx``: each row's k best columns by approximate score (desc, then column
    asc; -1 / nan padding), as ``top_n_base_plus_sparse`` returns them; ``exact``: their
    exact scores, which are ``offset[row] + approx`` up to rounding of terms of magnitude at
    most ``scale[row]``. A column left out had approx <= the row's last candidate's, so its
    exact score is at most offset + that + rounding: the row is settled when its n-th exact
    score clears this by a strict margin (a tie could go to the left-out column by its code),
    or when the candidates are every available column (padding, or k == ``n_cols``).
    Returns (int32 ids, float64 scores, settled), ordered like ``base.top_n``.
    """
    rows, k = cand.shape
    ids = np.full((rows, n), -1, dtype=np.int32)
    vals = np.full((rows, n), np.nan)
    if n == 0 or rows == 0:
        return ids, vals, np.ones(rows, dtype=bool)
    real = cand >= 0
    key = np.where(real, exact, -np.inf)
    order = np.lexsort((np.where(real, cand, np.iinfo(np.int32).max), -key), axis=1)[:, :n]
    got, got_vals = np.take_along_axis(cand, order, 1), np.take_along_axis(key, order, 1)
    m = min(n, k)
    ok_cell = np.isfinite(got_vals[:, :m])
    ids[:, :m] = np.where(ok_cell, got[:, :m], -1)
    vals[:, :m] = np.where(ok_cell, got_vals[:, :m], np.nan)
    complete = ~real.all(axis=1) | (k >= n_cols)
    if m < n:  # fewer candidates than n: only complete rows can be settled
        return ids, vals, complete
    bound = offset + approx[:, -1]
    slack = RERANK_SLACK * (np.abs(offset) + scale + 1.0)
    return ids, vals, complete | (vals[:, n - 1] > bound + slack)
