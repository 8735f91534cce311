"""Who uses which song: heavy-tailed counts per influencer, then distinct (influencer, song)
pairs drawn by popularity and planted affinity, never a dense influencers x songs matrix."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from models_py.synth.ratings import factor_dot
from models_py.synth.sampling import choose_where
from models_py.synth.settings import ModelParams

MEDIAN_SONGS_PER_USER = 4.5  # before the scaling that makes the counts add up
CANDIDATES_PER_CHUNK = 4_000_000
CALIBRATION_USERS = 100_000
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


@dataclass(frozen=True)
class UsageModel:
    """What usage depends on: per song its popularity and genre, per genre its part of q_i."""

    popularity: np.ndarray
    genre: np.ndarray
    genre_factors: np.ndarray
    user_factors: np.ndarray
    song_factors: np.ndarray
    genre_alpha: float
    affinity_alpha: float
    genre_offset: np.ndarray  # log-weight of each genre, calibrated (genre_offsets)

    def genre_logits(self, users: np.ndarray) -> np.ndarray:
        """log P(genre | user) + const: dense users x genres only, a few dozen columns."""
        taste = self.user_factors[users] @ self.genre_factors.T
        return self.genre_alpha * taste + self.genre_offset

    def song_log_weight(self) -> np.ndarray:
        """The song's own term of the usage log-weight: log(popularity / genre popularity)
        + its genre's offset."""
        mass = genre_mass(self.genre, self.popularity, self.genre_factors.shape[0])
        return np.log(self.popularity / mass[self.genre]) + self.genre_offset[self.genre]


def genre_mass(genre: np.ndarray, popularity: np.ndarray, n_genres: int) -> np.ndarray:
    return np.maximum(np.bincount(genre, popularity, minlength=n_genres), 1e-300)


def genre_offsets(
    mass: np.ndarray, taste: np.ndarray, wanted: np.ndarray, iterations: int = 60
) -> np.ndarray:
    """Genre offsets b such that the expected share of uses of each genre,
    sum_u wanted_u softmax(taste_u + b), equals its popularity mass: taste then moves who
    uses a genre, never how much it is used, so the songs' popularity skew stays planted.
    ``taste``: genre_alpha * p_u.g for (a sample of) users, ``wanted`` their counts."""
    target = mass / mass.sum()
    offset = np.log(target)
    for _ in range(iterations):  # a one-sided Sinkhorn: multiplicative fixed point
        logit = taste + offset
        weight = np.exp(logit - logit.max(axis=1, keepdims=True))
        weight /= weight.sum(axis=1, keepdims=True)
        share = wanted @ weight / wanted.sum()
        offset += np.log(target / np.maximum(share, 1e-300))
    return offset - offset.max()


def usage_model(
    songs: dict[str, Any], user_factors: np.ndarray, wanted: np.ndarray, model: ModelParams
) -> UsageModel:
    """The planted usage model, its genre offsets calibrated on at most CALIBRATION_USERS
    evenly spaced influencers (enough for a dozen or two offsets)."""
    genre_factors = songs["genre_factors"]
    sample = np.unique(np.linspace(0, wanted.size - 1, min(wanted.size, CALIBRATION_USERS)))
    sample = sample.astype(np.int64)
    taste = model.genre_alpha * (user_factors[sample] @ genre_factors.T)
    mass = genre_mass(songs["genre"], songs["popularity"], genre_factors.shape[0])
    return UsageModel(
        popularity=songs["popularity"],
        genre=songs["genre"],
        genre_factors=genre_factors,
        user_factors=user_factors,
        song_factors=songs["factors"],
        genre_alpha=model.genre_alpha,
        affinity_alpha=model.affinity_alpha,
        genre_offset=genre_offsets(mass, taste, wanted[sample].astype(np.float64)),
    )


def _by_popularity(usage: UsageModel) -> UsageModel:
    """The same songs drawn by popularity alone: for the rare heavy user who wants more
    songs than their taste's genres can supply."""
    n_genres = usage.genre_factors.shape[0]
    offset = np.log(genre_mass(usage.genre, usage.popularity, n_genres))
    return replace(usage, genre_alpha=0.0, affinity_alpha=0.0, genre_offset=offset)


def _within(cdf_rows: np.ndarray, row: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Column drawn in each ``row`` of a row-normalised cumulative table, by inverse cdf: the
    rows are stacked at offsets 0, 1, 2 ... so one searchsorted serves every row."""
    n_rows, n_cols = cdf_rows.shape
    stacked = (cdf_rows + np.arange(n_rows)[:, None]).ravel()
    flat = np.searchsorted(stacked, row + draws, side="right")
    return np.minimum(flat - row * n_cols, n_cols - 1)


def _genre_table(usage: UsageModel, users: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative P(genre | user) for ``users``."""
    logit = usage.genre_logits(users)
    cdf = np.cumsum(np.exp(logit - logit.max(axis=1, keepdims=True)), axis=1)
    return cdf / cdf[:, -1:]


def _song_table(usage: UsageModel) -> tuple[np.ndarray, np.ndarray]:
    """(songs ordered by genre, each genre's popularity cdf stacked at offsets 0, 1, ...)."""
    order = np.argsort(usage.genre, kind="stable")
    genre, pop = usage.genre[order], usage.popularity[order]
    cum = np.cumsum(pop)
    first = np.searchsorted(genre, np.arange(usage.genre_factors.shape[0]))
    total = np.bincount(genre, pop, minlength=first.size)
    before = (cum - pop)[first.clip(max=genre.size - 1)]
    within = (cum - before[genre]) / np.maximum(total[genre], 1e-300)
    return order, np.minimum(within, 1.0) + genre


def _candidates(
    rng: np.random.Generator, usage: UsageModel, users: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """(position in ``users``, song): ``n[i]`` songs for each of ``users``, drawn with replacement
    ~ popularity * exp(genre_alpha * p_u.g_i): a genre by taste, then a song by popularity."""
    user = np.repeat(np.arange(users.size), n)
    genre = _within(_genre_table(usage, users), user, rng.random(user.size))
    order, stacked = _song_table(usage)
    position = np.searchsorted(stacked, genre + rng.random(user.size), side="right")
    return user, order[np.minimum(position, order.size - 1)]


def _top_k_chunk(
    rng: np.random.Generator,
    users: np.ndarray,
    wanted: np.ndarray,
    multiplier: int,
    usage: UsageModel,
) -> tuple[np.ndarray, np.ndarray]:
    """Gumbel top-k for consecutive ``users``: candidates drawn by popularity and genre taste,
    keep each user's ``wanted[user]`` best by affinity + Gumbel.

    A song drawn c times would get the max of c Gumbels, which is distributed as one Gumbel
    + log(c): so deduplicate first (cheap int sort) and add log(count) instead.
    """
    n_songs = usage.popularity.size
    first_user = users[0]
    position, song = _candidates(rng, usage, users, wanted[users] * multiplier + 4)
    user = users[position] - first_user
    pair, count = np.unique(user * n_songs + song, return_counts=True)  # by user, then song
    user, song = pair // n_songs, pair % n_songs
    affinity = factor_dot(usage.user_factors, user + first_user, usage.song_factors, song)
    score = usage.affinity_alpha * affinity + np.log(count)
    score += rng.gumbel(size=user.size)
    # One float sort key = (user asc, score desc); scores are far inside (-32, 32).
    order = np.argsort(user * 64.0 + (32.0 - np.clip(score, -31.9, 31.9)))
    user, song = user[order] + first_user, song[order]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]])
    rank = np.arange(user.size) - np.repeat(starts, np.diff(np.r_[starts, user.size]))
    keep = rank < wanted[user]
    return user[keep], song[keep].astype(np.int32)


def sample_pairs(
    rng: np.random.Generator, wanted: np.ndarray, usage: UsageModel, multiplier: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, song) pairs, ``wanted[u]`` per user, ~ popularity
    * exp(genre_alpha p_u.g_i + affinity_alpha p_u.q_i); sorted by user."""
    pending = np.arange(wanted.size)
    out_user, out_song = [], []
    for attempt in range(MAX_ROUNDS):
        cost = np.cumsum(wanted[pending] * multiplier + 4)
        bounds = np.searchsorted(
            cost, np.arange(CANDIDATES_PER_CHUNK, cost[-1], CANDIDATES_PER_CHUNK)
        )
        retry = []
        if attempt == MAX_ROUNDS - 1:  # taste exhausted: the last round draws by popularity
            usage = _by_popularity(usage)
        for users in np.split(pending, bounds):
            if not users.size:
                continue
            user, song = _top_k_chunk(rng, users, wanted, multiplier, usage)
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
