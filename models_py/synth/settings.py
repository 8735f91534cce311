"""What the generator is asked for: dirt rates, the planted model's parameters, dataset sizes.

Thresholds the cleaning rules test against come from the dbt project's vars (through
`models_py.contract`), so clean rows stay inside them and dirty rows land just outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models_py.contract import project_var

MAX_POSTS: int = project_var("max_posts")  # Posts above it: posts_over_max
MAX_ER: float = project_var("max_er")  # ER above it: er_over_max
NANO_MAX_FOLLOWERS: int = project_var("tier_nano_max_followers")  # nano below it
CELEBRITY_FOLLOWERS: int = project_var("celebrity_followers")  # celebrity from it
FOLLOWERS_CAP = 5_000_000
TIERS = ("nano", "micro", "celebrity")  # tier code = index

CLEAN_ER_RANGE = (0.1, MAX_ER - 0.1)
ER_MEDIAN_BY_TIER = (4.0, 2.5, 1.2)
ER_LOG_SD = 0.4  # spread of ER around its tier's median
CLEAN_POSTS_RANGE = (30, MAX_POSTS)

SONGS_PER_USER_CAP = 200
XLSX_MAX_ROWS = 59_999  # each workbook stays below 60,000 data rows
PART_ROWS = 1_000_000  # rows per parquet part

# --scale presets: rows -> (total influencers, songs); linear between and beyond the anchors.
SCALE_ANCHORS = (
    (100_000, 12_000, 10_000),
    (1_000_000, 120_000, 50_000),
    (10_000_000, 1_000_000, 100_000),
)
CELEBRITY_SHARE = 1 / 6  # the report's 2,000 celebrities next to 10,000 nano/micro accounts


@dataclass(frozen=True)
class DirtRates:
    """Dirt rates. Row kinds are shares of all written rows; noted exceptions are per entity."""

    missing_url_or_song: float = 0.003
    unparseable_number: float = 0.003
    posts_over_max: float = 0.005  # share of influencers (+ one brand page with > 1M posts)
    er_over_max: float = 0.01  # share of influencers
    use_count_over_posts: float = 0.005
    duplicate_url_song: float = 0.02  # extra copied rows, share of all written rows
    thousands_sep: float = 0.10
    er_percent: float = 0.10
    followers_abbrev: float = 0.03
    padded: float = 0.02
    time_text: float = 0.30
    url_variant: float = 0.03  # share of non-duplicate rows
    url_variant_on_duplicates: float = 0.25  # copies are likelier to carry a URL variant
    blank_likes_comments: float = 0.005
    blank_time: float = 0.005
    blank_delta: float = 0.005
    blank_name: float = 0.01  # share of influencers
    blank_bio: float = 0.05  # share of influencers
    blank_release: float = 0.01  # share of songs
    null_token: float = 0.2  # share of rows with harmless blanks written as "NA", "-", ...


@dataclass(frozen=True)
class ModelParams:
    """Planted rating model: Delta = mu + b_u + b_i + p_u.q_i + N(0, sigma)."""

    k: int = 8
    mu: float = -0.5
    sigma: float = 1.0
    # b_u = -er_slope * (ER - er_ref) + N(0, user_bias_sd): high-ER accounts regress to the mean,
    # low-ER accounts gain, which keeps Curr_ER = ER + Delta >= 0 for nearly all rows.
    er_slope: float = 0.95
    er_ref: float = 3.1
    user_bias_sd: float = 0.3
    song_bias_sd: float = 0.35
    song_bias_artist_share: float = 0.5
    user_factor_sd: float = 0.45
    song_factor_sd: float = 0.45
    # Per-dimension variance shares of q_i for a song with a known year; unknown years (year 0)
    # get no decade effect, so the overall explained share is artist + decade * P(known).
    artist_share: float = 0.38
    decade_share: float = 0.16
    unknown_year_share: float = 0.45
    # Usage: log w_ui = s_i + genre_alpha * p_u.g_i + affinity_alpha * p_u.q_i (usage.py),
    # g_i the genre part of q_i: taste in which songs are used, learnable from a few reels
    # because it is low-dimensional (n_genres genres of artists). A per-song term of p.q
    # (affinity_alpha > 0) is taste no usage model can learn from ~6 reels: left out.
    n_genres: int = 10
    genre_share: float = 0.8  # share of the artist effect's variance that is its genre's
    genre_alpha: float = 40.0
    affinity_alpha: float = 0.0
    zipf_exponent: float = 0.6  # popularity ~ (rank + offset) ** -exponent
    # Share of the variance of the latent that ranks song popularity coming from the artist:
    # a new song by an artist whose songs are used widely tends to be used widely too.
    artist_popularity_share: float = 0.5
    zipf_offset: float = 4.0
    candidate_multiplier: int = 5
    songs_per_user_sigma: float = 1.1


def default_rows(n_influencers_total: int) -> int:
    """The report's ~100k rows for 12k influencers, i.e. ~8.3 songs per influencer."""
    return round(100_000 * n_influencers_total / 12_000)


def scale_sizes(rows: int) -> tuple[int, int, int]:
    """(nano/micro influencers, celebrities, songs) for ``--scale rows``."""
    anchor_rows, anchor_influencers, anchor_songs = (
        np.array(column, dtype=float) for column in zip(*SCALE_ANCHORS, strict=True)
    )
    if rows <= anchor_rows[0]:
        total = anchor_influencers[0] * rows / anchor_rows[0]
        songs = anchor_songs[0] * rows / anchor_rows[0]
    elif rows >= anchor_rows[-1]:
        total = anchor_influencers[-1] * rows / anchor_rows[-1]
        songs = anchor_songs[-1] * rows / anchor_rows[-1]
    else:
        total = np.interp(rows, anchor_rows, anchor_influencers)
        songs = np.interp(rows, anchor_rows, anchor_songs)
    celebrities = round(total * CELEBRITY_SHARE)
    return max(1, round(total) - celebrities), celebrities, max(10, round(songs))


def songs_per_user_cap(n_songs: int) -> int:
    """Most songs one influencer may use: a third of the catalogue leaves room to sample."""
    return min(SONGS_PER_USER_CAP, n_songs // 3)


def validate_sizes(
    n_influencers: int, n_celebrities: int, n_songs: int, n_rows: int | None, rates: DirtRates
) -> tuple[int, int]:
    """Check the sizes; return (written rows, duplicate copies among them)."""
    n_users = n_influencers + n_celebrities
    if n_influencers < 0 or n_celebrities < 0 or n_users < 1:
        raise ValueError("need at least one influencer (and no negative counts)")
    if n_songs < 3:
        raise ValueError("need at least 3 songs")
    n_rows = default_rows(n_users) if n_rows is None else n_rows
    n_duplicates = round(rates.duplicate_url_song * n_rows)
    cap = songs_per_user_cap(n_songs)
    if n_rows - n_duplicates < n_users:
        raise ValueError(f"{n_rows:,} rows is fewer than one row per influencer")
    if n_rows - n_duplicates > n_users * cap:
        raise ValueError(f"{n_rows:,} rows need more songs or influencers (<= {cap} songs each)")
    return n_rows, n_duplicates
