"""The ranker of base + sparse scores (sparse_rank) against the dense ranking it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from models_py.recommenders.item_knn import lowest_free
from models_py.recommenders.ranking import exact_top_n, shelf_top_n
from models_py.recommenders.sparse_rank import SparseRanker
from models_py.recommenders.topn import mask_excluded, top_entries, top_n


def ranked(
    stored: sp.csr_matrix,
    base: np.ndarray,
    n: int,
    exclude: sp.csr_matrix | None = None,
    offset: np.ndarray | None = None,
    shelf: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ranker's top-n of every row of ``stored`` (rows are users, in blocks of 5)."""
    order = np.lexsort((np.arange(base.size), -base))
    shift = None if offset is None else (lambda rows: offset[rows])
    ranker = SparseRanker(base, order, lambda rows: stored[rows], shift, users_per_block=5)
    users = np.arange(stored.shape[0])
    if shelf is not None:
        return shelf_top_n(ranker, users, n, exclude, shelf)
    return exact_top_n(ranker, users, n, exclude)


@pytest.mark.parametrize("seed", range(40))
def test_equals_the_dense_ranking(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 12)), int(rng.integers(1, 30))
    n = int(rng.integers(0, cols + 3))
    # Few distinct values: ties everywhere, between stored cells, base-only cells and both.
    levels = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0])
    dense = np.where(rng.random((rows, cols)) < 0.3, rng.choice(levels, (rows, cols)), 0.0)
    stored = sp.csr_matrix(dense)
    if seed % 3 == 0:  # explicit zeros stored (a sum of similarities that cancels)
        stored = sp.csr_matrix((np.zeros(3), ([0, 0, rows - 1], [0, cols - 1, 0])), (rows, cols))
        dense = stored.toarray()
    base = rng.choice([0.0, 1e-7, 2e-7], cols) if seed % 2 else rng.random(cols) * 1e-6
    offset = rng.choice([0.0, 0.5, 3.0], rows) if seed % 4 < 2 else None
    head = base if offset is None else offset[:, None] + base
    exclude = sp.csr_matrix(rng.random((rows, cols)) < 0.25)
    shelf = rng.random(cols) < 0.5
    for ex in (exclude, None):
        scores = mask_excluded(head + dense, ex)
        want_ids, want_vals = top_n(scores, n)
        ids, vals = ranked(stored, base, n, ex, offset)
        assert (ids == want_ids).all()
        np.testing.assert_array_equal(vals, want_vals)
        scores[:, ~shelf] = -np.inf
        want_ids, want_vals = top_n(scores, n)
        ids, vals = ranked(stored, base, n, ex, offset, shelf)
        assert (ids == want_ids).all()
        np.testing.assert_array_equal(vals, want_vals)


def test_lowest_free_skips_taken_codes_per_group() -> None:
    group, slot, code = lowest_free(
        np.array([0, 0, 0, 2]), np.array([0, 1, 5, 1]), np.array([4, 2, 2]), 6
    )
    got = {(g, s): c for g, s, c in zip(group, slot, code, strict=True)}
    assert got == {(0, 0): 2, (0, 1): 3, (0, 2): 4, (1, 0): 0, (1, 1): 1, (2, 0): 0, (2, 1): 2}


@pytest.mark.parametrize("seed", range(6))
def test_rows_whose_best_base_columns_are_taken_look_further(seed: int) -> None:
    """The first levels try the best-base columns: rows that stored or excluded most of them
    try more, or are ranked densely."""
    rng = np.random.default_rng(seed)
    rows, cols, n = 6, 400, 3
    base = rng.choice([0.0, 1e-7, 2e-7, 3e-7], cols)
    order = np.lexsort((np.arange(cols), -base))
    dense = np.where(
        rng.random((rows, cols)) < 0.05, rng.choice([-1e-7, 0.0, 1e-7], (rows, cols)), 0
    )
    dense[0, order[:150]] = -1.0  # row 0 stores the 150 best-base columns, low
    excluded = np.zeros((rows, cols), dtype=bool)
    excluded[1, order[:200]] = True  # row 1 may not use them
    excluded[2, order[:399]] = True  # row 2 has one column left
    stored, exclude = sp.csr_matrix(dense), sp.csr_matrix(excluded)
    scores = dense + base
    scores[excluded] = -np.inf
    want_ids, want_vals = top_n(scores, n)
    ids, vals = ranked(stored, base, n, exclude)
    assert (ids == want_ids).all()
    np.testing.assert_array_equal(vals, want_vals)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 3, 50])
def test_top_entries_are_each_rows_best_by_value_then_column(seed: int, n: int) -> None:
    """Against a 3-key lexsort of every entry: ties at the cut (values on a coarse grid), rows
    with fewer than n entries, -inf scores, rows of very different lengths."""
    rng = np.random.default_rng(seed)
    row = np.repeat(np.arange(300), rng.geometric(0.02, 300))
    col = rng.permutation(row.size) % 997
    val = np.round(rng.normal(size=row.size), 1)
    val[rng.random(row.size) < 0.01] = -np.inf
    order = np.lexsort((col, -val, row))
    rank = np.arange(row.size) - np.searchsorted(row[order], row[order])
    want = [a[order][rank < n] for a in (row, col, val)]
    for g, w in zip(top_entries(row, col, val, n), want, strict=True):
        np.testing.assert_array_equal(g, w)
    by_col = np.lexsort((col, row))
    got = top_entries(row[by_col], col[by_col], val[by_col], n, col_sorted=True)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
