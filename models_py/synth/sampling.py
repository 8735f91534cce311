"""Random draws several stages share."""

from __future__ import annotations

import numpy as np


def choose_where(rng: np.random.Generator, eligible: np.ndarray, count: int) -> np.ndarray:
    """Exactly min(count, #eligible) distinct sorted indices where ``eligible`` is true."""
    candidates = np.flatnonzero(eligible)
    count = min(count, candidates.size)
    if not count:
        return candidates[:0]
    return np.sort(candidates[rng.choice(candidates.size, size=count, replace=False)])


def truncated_lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, lo: float, hi: float, n: int
) -> np.ndarray:
    """Lognormal draws restricted to [lo, hi] by resampling (no pile-up at the bounds)."""
    medians = np.broadcast_to(np.asarray(median, dtype=float), (n,))
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        x = medians[todo] * np.exp(sigma * rng.standard_normal(todo.size))
        inside = (x >= lo) & (x <= hi)
        out[todo[inside]] = x[inside]
        todo = todo[~inside]
    return out
