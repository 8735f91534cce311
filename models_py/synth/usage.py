"""Who uses which song: heavy-tailed counts per influencer, then distinct (influencer, song)
pairs drawn by popularity and planted affinity, never a dense influencers x songs matrix."""

from __future__ import annotations

import numpy as np

from models_py.synth.ratings import factor_dot
from models_py.synth.sampling import choose_where
from models_py.synth.settings import ModelParams

MEDIAN_SONGS_PER_USER = 4.5  # before the scaling that makes the counts add up
CANDIDATES_PER_CHUNK = 4_000_000
MAX_ROUNDS = 6  # rounds of redrawing for influencers that got too few distinct candidates


def songs_per_user(
    rng: np.random.Generator, n_users: int, total: int, cap: int, sigma: float
) -> np.ndarray:
    """Heavy-tailed counts (min 1, <= cap) that sum exactly to ``total``."""
    raw = rng.lognormal(np.log(MEDIAN_SONGS_PER_USER), sigma, n_users)

    def counts(scale: float) -> np.ndarray:
        return np.clip(np.floor(raw * scale) + 1, 1, cap).astype(np.int64)

    lo, hi = 0.0, 1.0
    while counts(hi).sum() < total:
        hi *= 2
    for _ in range(60):  # bisect the scale
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if counts(mid).sum() < total else (lo, mid)
    n = counts(lo)
    while (missing := total - int(n.sum())) != 0:  # +-1 fix-ups on random users with room
        room = n < cap if missing > 0 else n > 1
        n[choose_where(rng, room, abs(missing))] += int(np.sign(missing))
    return n


def _top_k_chunk(
    rng: np.random.Generator,
    users: np.ndarray,
    wanted: np.ndarray,
    multiplier: int,
    popularity_cdf: np.ndarray,
    user_factors: np.ndarray,
    song_factors: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gumbel top-k for consecutive ``users``: popularity-drawn candidates, keep each user's
    ``wanted[user]`` best by affinity + Gumbel.

    A song drawn c times would get the max of c Gumbels, which is distributed as one Gumbel
    + log(c): so deduplicate first (cheap int sort) and add log(count) instead.
    """
    n_songs = popularity_cdf.size
    first_user = users[0]
    user = np.repeat(users - first_user, wanted[users] * multiplier + 4).astype(np.int64)
    draws = rng.random(user.size)
    song = np.searchsorted(popularity_cdf, draws, side="right").clip(max=n_songs - 1)
    pair, count = np.unique(user * n_songs + song, return_counts=True)  # by user, then song
    user, song = pair // n_songs, pair % n_songs
    affinity = factor_dot(user_factors, user + first_user, song_factors, song)
    score = alpha * affinity + np.log(count)
    score += rng.gumbel(size=user.size)
    # One float sort key = (user asc, score desc); scores are far inside (-32, 32).
    order = np.argsort(user * 64.0 + (32.0 - np.clip(score, -31.9, 31.9)))
    user, song = user[order] + first_user, song[order]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]])
    rank = np.arange(user.size) - np.repeat(starts, np.diff(np.r_[starts, user.size]))
    keep = rank < wanted[user]
    return user[keep], song[keep].astype(np.int32)


def sample_pairs(
    rng: np.random.Generator,
    wanted: np.ndarray,
    popularity: np.ndarray,
    user_factors: np.ndarray,
    song_factors: np.ndarray,
    model: ModelParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, song) pairs, ``wanted[u]`` per user, ~ popularity * exp(alpha p.q);
    sorted by user."""
    cdf = np.cumsum(popularity)
    cdf /= cdf[-1]
    pending = np.arange(wanted.size)
    multiplier = model.candidate_multiplier
    out_user, out_song = [], []
    for attempt in range(MAX_ROUNDS):
        cost = np.cumsum(wanted[pending] * multiplier + 4)
        bounds = np.searchsorted(
            cost, np.arange(CANDIDATES_PER_CHUNK, cost[-1], CANDIDATES_PER_CHUNK)
        )
        retry = []
        for users in np.split(pending, bounds):
            if not users.size:
                continue
            alpha = model.affinity_alpha
            user, song = _top_k_chunk(
                rng, users, wanted, multiplier, cdf, user_factors, song_factors, alpha
            )
            span = users[-1] - users[0] + 1
            got = np.bincount(user - users[0], minlength=span)[users - users[0]]
            short = users[got < wanted[users]]
            if short.size and attempt < MAX_ROUNDS - 1:  # too few distinct candidates: redo
                kept = ~np.isin(user, short)
                user, song = user[kept], song[kept]
                retry.append(short)
            out_user.append(user)
            out_song.append(song)
        if not retry:
            break
        pending, multiplier = np.concatenate(retry), multiplier * 4
    user = np.concatenate(out_user).astype(np.int32)
    song = np.concatenate(out_song)
    order = np.argsort(user, kind="stable")
    return user[order], song[order]
