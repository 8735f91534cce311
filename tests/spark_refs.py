"""Dense numpy transcriptions of what MLlib's ALS minimises, for the Spark models' tests.

MLlib scales each row's penalty by its number of ratings (ALS-WR: lambda * n_u), in explicit
and implicit mode alike; ``weighted=False`` drops that scaling, the objective a wrong
translation of our parameters would fit (the tests show their tolerance tells the two apart).
"""

from __future__ import annotations

import numpy as np


def als_wr(
    target: np.ndarray, observed: np.ndarray, k: int, reg: float, sweeps: int, weighted: bool
) -> np.ndarray:
    """P @ Q.T minimising sum_observed (t - p.q)^2 + reg * sum_u n_u |p_u|^2 + sum_i n_i |q_i|^2
    by plain alternating solves, one row at a time (small matrices only)."""
    rng = np.random.default_rng(1)
    p, q = np.zeros((target.shape[0], k)), rng.normal(0.0, 0.5, (target.shape[1], k))
    for _ in range(sweeps):
        p = _solve_rows(target, observed, q, reg, weighted)
        q = _solve_rows(target.T, observed.T, p, reg, weighted)
    return p @ q.T


def _solve_rows(
    target: np.ndarray, observed: np.ndarray, other: np.ndarray, reg: float, weighted: bool
) -> np.ndarray:
    k = other.shape[1]
    out = np.zeros((target.shape[0], k))
    for r in range(target.shape[0]):
        seen = observed[r]
        if not seen.any():
            continue
        penalty = reg * (seen.sum() if weighted else 1.0)
        a = other[seen].T @ other[seen] + penalty * np.eye(k)
        out[r] = np.linalg.solve(a, other[seen].T @ target[r, seen])
    return out


def implicit_als(
    counts: np.ndarray, k: int, reg: float, alpha: float, sweeps: int, weighted: bool
) -> np.ndarray:
    """Hu, Koren and Volinsky's ALS as MLlib states it: preference 1 where counts > 0,
    confidence 1 + alpha * counts, row penalty reg * (its nonzero count when `weighted`)."""
    rng = np.random.default_rng(1)
    x, y = np.zeros((counts.shape[0], k)), rng.normal(0.0, 0.5, (counts.shape[1], k))
    for _ in range(sweeps):
        x = _solve_implicit(counts, y, reg, alpha, weighted)
        y = _solve_implicit(counts.T, x, reg, alpha, weighted)
    return x @ y.T


def _solve_implicit(
    counts: np.ndarray, other: np.ndarray, reg: float, alpha: float, weighted: bool
) -> np.ndarray:
    k = other.shape[1]
    out = np.zeros((counts.shape[0], k))
    for r in range(counts.shape[0]):
        used = counts[r] > 0
        if not used.any():
            continue
        confidence = 1.0 + alpha * counts[r]
        penalty = reg * (used.sum() if weighted else 1.0)
        a = (other * confidence[:, None]).T @ other + penalty * np.eye(k)
        out[r] = np.linalg.solve(a, (other * confidence[:, None]).T @ used.astype(float))
    return out


def ranked(scores: np.ndarray, excluded: np.ndarray, n: int) -> list[list[int]]:
    """Each row's n best columns by score desc then column asc, excluded cells left out."""
    out = []
    for row, skip in zip(scores, excluded, strict=True):
        cols = np.flatnonzero(~skip)
        order = np.lexsort((cols, -row[cols]))
        out.append(cols[order][:n].tolist())
    return out
