"""Dirt planted at known rates: rejecting kinds (each named for the cleaning rule that must
quarantine the row) and harmless kinds (the row stays clean and every value must still parse).

Each row records its kinds as bits; `expected_rules` turns them into the rule the pipeline must
report, following the contract's precedence.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np

from models_py.contract import CLEANING_RULES
from models_py.synth.sampling import choose_where
from models_py.synth.settings import MAX_ER, MAX_POSTS, NANO_MAX_FOLLOWERS, DirtRates
from models_py.synth.text import text_array

# Cleaning rules the generator plants, and where: on an influencer (their posts or ER taint all
# their rows), on a row's own cells, or as an extra copy of a clean row. The contract's other
# rules (formula_without_value, out_of_range) are not planted; tests/test_hostile_accepted.py
# covers them.
PLANTED_RULES: dict[str, str] = {
    "missing_url_or_song": "row",
    "unparseable_number": "row",
    "posts_over_max": "influencer",
    "er_over_max": "influencer",
    "use_count_over_posts": "row",
    "duplicate_url_song": "copy",
}
INFLUENCER_RULES = tuple(rule for rule, on in PLANTED_RULES.items() if on == "influencer")
_NOT_IN_CONTRACT = sorted(set(PLANTED_RULES).difference(CLEANING_RULES))
if _NOT_IN_CONTRACT:
    raise ImportError(f"planted dirt names rules the contract lacks: {_NOT_IN_CONTRACT}")
# In the contract's precedence: a row is quarantined by the FIRST rule it fails.
REJECT_RULES: tuple[str, ...] = tuple(rule for rule in CLEANING_RULES if rule in PLANTED_RULES)
HARMLESS_KINDS: tuple[str, ...] = (
    "thousands_sep",
    "er_percent",
    "followers_abbrev",
    "padded",
    "time_text",
    "url_variant",
    "blank_likes_comments",
    "blank_time",
    "blank_delta",
    "blank_name",
    "blank_bio",
    "blank_release",
    "null_token",
)
DIRT_KINDS = REJECT_RULES + HARMLESS_KINDS
DIRT_BIT = {kind: 1 << i for i, kind in enumerate(DIRT_KINDS)}
REJECTING_BITS = sum(DIRT_BIT[rule] for rule in REJECT_RULES)
# Per-row flags that are harmless kinds of their own (set here, rendered into cells).
FORMAT_FLAGS = ("thousands_sep", "er_percent", "followers_abbrev", "time_text")

NULL_TOKENS = text_array(["", "NA", "N/A", "null", "None", "-", "nan"])
JUNK_TOKENS = text_array(
    ["12abc", "1.2.3", "lots", "#VALUE!", "#REF!", "#DIV/0!", "??", "approx 40"]
)
# URL variant flags (a row may carry several).
N_URL_FLAGS = 5
URL_UPPER, URL_NO_SLASH, URL_HTTP, URL_NO_WWW, URL_QUERY = (1 << i for i in range(N_URL_FLAGS))
N_PAD_STYLES = 3  # " x ", "x  ", "  x"


class NumericColumn(IntEnum):
    """Numeric cells that may hold junk, padding or null tokens; rows store these codes in
    ``junk_column`` and ``pad_column`` (-1 = none)."""

    USE_COUNT = 0
    FOLLOWERS = 1
    POSTS = 2
    ER = 3
    DELTA = 4
    LIKES = 5
    COMMENTS = 6
    TIME = 7


THOUSANDS_SEP_COLUMNS = (
    NumericColumn.FOLLOWERS,
    NumericColumn.POSTS,
    NumericColumn.LIKES,
    NumericColumn.COMMENTS,
)


def has_dirt(bits: np.ndarray, kind: str) -> np.ndarray:
    return (bits & DIRT_BIT[kind]) != 0


def expected_rules(bits: np.ndarray) -> np.ndarray:
    """Index into REJECT_RULES of the first rule a row fails, -1 if it should end up clean."""
    out = np.full(bits.size, -1, dtype=np.int8)
    for i, rule in reversed(list(enumerate(REJECT_RULES))):
        out[has_dirt(bits, rule)] = i
    return out


def blank_cells(rows: dict[str, np.ndarray], column: int | np.ndarray) -> np.ndarray:
    """Harmless blanks in a numeric column (one code, or one code per row)."""
    bits = rows["bits"]
    likes_or_comments = (column == NumericColumn.LIKES) | (column == NumericColumn.COMMENTS)
    return (
        ((column == NumericColumn.DELTA) & has_dirt(bits, "blank_delta"))
        | (likes_or_comments & has_dirt(bits, "blank_likes_comments"))
        | ((column == NumericColumn.TIME) & has_dirt(bits, "blank_time"))
    )


def thousands_sep_cells(
    rows: dict[str, np.ndarray], values: dict[NumericColumn, np.ndarray]
) -> dict[NumericColumn, np.ndarray]:
    """Cells that get thousands separators: flagged row, value >= 1000, not junk/blank/abbrev."""
    out = {}
    for column in THOUSANDS_SEP_COLUMNS:
        shown = rows["thousands_sep"] & (values[column] >= 1000)
        shown &= (rows["junk_column"] != column) & ~blank_cells(rows, column)
        if column == NumericColumn.FOLLOWERS:
            shown &= ~rows["followers_abbrev"]
        out[column] = shown
    return out


def influencer_dirt(
    rng: np.random.Generator,
    influencers: dict[str, Any],
    songs_per_user: np.ndarray,
    rates: DirtRates,
) -> None:
    """Influencer-level rejecting dirt, written into the influencer's (raw) attributes; sets
    ``dirty_rule`` (REJECT_RULES index, -1 = none)."""
    n = songs_per_user.size
    rule = np.full(n, -1, dtype=np.int8)
    posts_rule, er_rule = REJECT_RULES.index("posts_over_max"), REJECT_RULES.index("er_over_max")
    celebrities = influencers["tier"] == 2
    busy_celebrities = celebrities & (songs_per_user >= 3)
    candidates = busy_celebrities if busy_celebrities.any() else songs_per_user >= 1
    brand = int(choose_where(rng, candidates, 1)[0])  # "Bewakoof": a brand page with > 1M posts
    rule[brand] = posts_rule
    influencers["posts"][brand] = rng.integers(1_000_001, 1_500_000)
    influencers["name"][brand], influencers["handle"][brand] = "Bewakoof", "bewakoof"
    influencers["blank_name"][brand] = False
    influencers["bio"][brand] = "India's favourite online fashion brand 🛍️ #bewakoof"
    posts_bad = choose_where(rng, rule < 0, round(rates.posts_over_max * n))
    rule[posts_bad] = posts_rule
    influencers["posts"][posts_bad] = rng.integers(MAX_POSTS + 1, 60_001, posts_bad.size)
    er_bad = choose_where(rng, rule < 0, round(rates.er_over_max * n))
    rule[er_bad] = er_rule
    influencers["er"][er_bad] = np.round(rng.uniform(MAX_ER + 0.5, 40.0, er_bad.size), 2)
    influencers["dirty_rule"] = rule


def rejecting_row_dirt(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    influencers: dict[str, Any],
    rates: DirtRates,
    n_total: int,
    n_duplicates: int,
) -> np.ndarray:
    """Row-level rejecting dirt on planted rows (at most one kind per row); sets ``bits`` and
    returns the rows to duplicate."""
    n = rows["user"].size
    bits = np.zeros(n, dtype=np.int64)
    rule = influencers["dirty_rule"][rows["user"]]
    for name in INFLUENCER_RULES:
        bits[rule == REJECT_RULES.index(name)] |= DIRT_BIT[name]
    free = bits == 0
    originals = choose_where(rng, free, n_duplicates)
    free[originals] = False

    missing = choose_where(rng, free, round(rates.missing_url_or_song * n_total))
    free[missing] = False
    bits[missing] |= DIRT_BIT["missing_url_or_song"]
    url_not_song = rng.random(missing.size) < 0.5
    rows["blank_url"][missing[url_not_song]] = True
    rows["blank_song"][missing[~url_not_song]] = True

    junk = choose_where(rng, free, round(rates.unparseable_number * n_total))
    free[junk] = False
    bits[junk] |= DIRT_BIT["unparseable_number"]
    rows["junk_column"][junk] = rng.integers(0, len(NumericColumn), junk.size)
    rows["junk_token"][junk] = rng.integers(0, len(JUNK_TOKENS), junk.size)

    over = choose_where(rng, free, round(rates.use_count_over_posts * n_total))
    bits[over] |= DIRT_BIT["use_count_over_posts"]
    posts = influencers["posts"][rows["user"][over]]
    rows["use_count"][over] = posts + rng.integers(1, 11, over.size)
    rows["bits"] = bits
    return originals


def harmless_dirt(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    influencers: dict[str, Any],
    songs: dict[str, Any],
    rates: DirtRates,
) -> None:
    """Formatting dirt and NULL-but-kept blanks; only ever recorded where actually visible."""
    _blank_cells_dirt(rng, rows, rates)
    _format_dirt(rng, rows, influencers, rates)
    _url_variants(rng, rows, rates)
    bits = rows["bits"]
    for kind in FORMAT_FLAGS:
        bits[rows[kind]] |= DIRT_BIT[kind]
    bits[rows["pad_column"] >= 0] |= DIRT_BIT["padded"]
    bits[rows["url_variant"] > 0] |= DIRT_BIT["url_variant"]
    bits[influencers["blank_name"][rows["user"]]] |= DIRT_BIT["blank_name"]
    bits[influencers["blank_bio"][rows["user"]]] |= DIRT_BIT["blank_bio"]
    bits[songs["blank_release"][rows["song"]]] |= DIRT_BIT["blank_release"]


def _blank_cells_dirt(
    rng: np.random.Generator, rows: dict[str, np.ndarray], rates: DirtRates
) -> None:
    """Blank Likes/Comments, Time or Delta on clean rows; some blanks written as a null token."""
    n, bits = rows["user"].size, rows["bits"]
    clean = (bits & REJECTING_BITS) == 0
    for kind in ("blank_likes_comments", "blank_time", "blank_delta"):
        bits[choose_where(rng, clean, round(getattr(rates, kind) * n))] |= DIRT_BIT[kind]
    blanks = (
        blank_cells(rows, NumericColumn.LIKES)
        | blank_cells(rows, NumericColumn.TIME)
        | blank_cells(rows, NumericColumn.DELTA)
    )
    token = choose_where(rng, blanks, round(rates.null_token * blanks.sum()))
    rows["null_token"][token] = rng.integers(0, len(NULL_TOKENS), token.size)
    bits[token] |= DIRT_BIT["null_token"]


def _format_dirt(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    influencers: dict[str, Any],
    rates: DirtRates,
) -> None:
    """Abbreviated followers, thousands separators, ER in percent, time as text, padding."""
    n = rows["user"].size
    junk_column = rows["junk_column"]
    followers = influencers["followers"][rows["user"]]
    big = (followers >= NANO_MAX_FOLLOWERS) & (junk_column != NumericColumn.FOLLOWERS)
    rows["followers_abbrev"][choose_where(rng, big, round(rates.followers_abbrev * n))] = True
    everyone = np.ones(n, bool)
    rows["thousands_sep"][choose_where(rng, everyone, round(rates.thousands_sep * n))] = True
    values = {
        NumericColumn.FOLLOWERS: followers,
        NumericColumn.POSTS: influencers["posts"][rows["user"]],
        NumericColumn.LIKES: rows["likes"],
        NumericColumn.COMMENTS: rows["comments"],
    }
    rows["thousands_sep"] &= np.logical_or.reduce(list(thousands_sep_cells(rows, values).values()))
    er_ok = junk_column != NumericColumn.ER
    rows["er_percent"][choose_where(rng, er_ok, round(rates.er_percent * n))] = True
    time_ok = (junk_column != NumericColumn.TIME) & ~blank_cells(rows, NumericColumn.TIME)
    rows["time_text"][choose_where(rng, time_ok, round(rates.time_text * n))] = True
    pad_column = rng.integers(0, len(NumericColumn), n).astype(np.int8)
    pad_ok = (pad_column != junk_column) & ~blank_cells(rows, pad_column)
    padded = choose_where(rng, pad_ok, round(rates.padded * n))
    rows["pad_column"][padded] = pad_column[padded]
    rows["pad_style"][:] = rng.integers(0, N_PAD_STYLES, n)


def _url_variants(rng: np.random.Generator, rows: dict[str, np.ndarray], rates: DirtRates) -> None:
    """URLs that name the same account differently; duplicate copies carry them more often."""
    n = rows["user"].size
    has_url = ~rows["blank_url"]
    copy = has_dirt(rows["bits"], "duplicate_url_song")
    variant = np.concatenate(
        [
            choose_where(rng, has_url & ~copy, round(rates.url_variant * (~copy).sum())),
            choose_where(rng, has_url & copy, round(rates.url_variant_on_duplicates * copy.sum())),
        ]
    )
    flags = (rng.random((variant.size, N_URL_FLAGS)) < 0.4) @ (1 << np.arange(N_URL_FLAGS))
    one_flag = 1 << rng.integers(0, N_URL_FLAGS, variant.size)
    rows["url_variant"][variant] = np.where(flags == 0, one_flag, flags)
    rows["url_query"][:] = rng.integers(0, 32, n)
