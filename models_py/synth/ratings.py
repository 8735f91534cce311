"""The planted ratings: Delta = mu + b_u + b_i + p_u.q_i + noise, and the engagement and other
per-row numbers that follow from it."""

from __future__ import annotations

from typing import Any

import numpy as np

from models_py.synth.settings import ModelParams

MAX_USE_COUNT = 25
MAX_DAYS_AGO = 60


def factor_dot(a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """sum_f a[ia, f] * b[ib, f], summed factor by factor in order.

    Not `recommenders.base.row_dot`: its einsum sums in another order, which changes the last
    bits of the planted truth (and so the data a seed gives). This order is part of the data.
    """
    out = np.zeros(ia.size)
    for f in range(a.shape[1]):
        out += a[ia, f] * b[ib, f]
    return out


def plant_rows(
    rating_rng: np.random.Generator,
    row_rng: np.random.Generator,
    influencers: dict[str, Any],
    songs: dict[str, Any],
    user: np.ndarray,
    song: np.ndarray,
    model: ModelParams,
) -> dict[str, np.ndarray]:
    """Ratings, engagement and the other per-row numbers for the planted (user, song) pairs."""
    expected = (
        model.mu
        + influencers["bias"][user]
        + songs["bias"][song]
        + factor_dot(influencers["factors"], user, songs["factors"], song)
    )
    n = user.size
    delta = np.round(expected + rating_rng.normal(0, model.sigma, n), 6)
    er = influencers["er"][user]  # the written ER, as the report computed Curr_ER - ER
    curr_er = np.round(er + delta, 6)
    censored = curr_er < 0  # a reel cannot have negative engagement
    curr_er[censored] = 0.0
    delta[censored] = -er[censored]
    engagement = np.rint(curr_er / 100 * influencers["followers"][user]).astype(np.int64)
    comments = np.rint(engagement * rating_rng.uniform(0.05, 0.20, n)).astype(np.int64)
    use_count = np.minimum(row_rng.geometric(0.45, n), MAX_USE_COUNT)
    heavy = row_rng.random(n) < 0.02
    use_count[heavy] = row_rng.integers(5, MAX_USE_COUNT + 1, heavy.sum())
    return {
        "user": user,
        "song": song,
        "delta": delta,
        "curr_er": curr_er,
        "delta_expected": expected,
        "censored": censored,
        "likes": engagement - comments,
        "comments": comments,
        "use_count": use_count.astype(np.int64),
        "time": row_rng.integers(1, MAX_DAYS_AGO + 1, n),
        # Dirt the row-level stage fills in: blank keys, junk in a numeric cell.
        "blank_url": np.zeros(n, bool),
        "blank_song": np.zeros(n, bool),
        "junk_column": np.full(n, -1, np.int8),
        "junk_token": np.zeros(n, np.int8),
    }
