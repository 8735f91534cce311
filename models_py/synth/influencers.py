"""Influencers: follower counts and tiers, engagement, posts, display names, handles, bios."""

from __future__ import annotations

import numpy as np

from models_py.synth import vocabulary as words
from models_py.synth.sampling import truncated_lognormal
from models_py.synth.settings import (
    CELEBRITY_FOLLOWERS,
    CLEAN_ER_RANGE,
    CLEAN_POSTS_RANGE,
    ER_LOG_SD,
    ER_MEDIAN_BY_TIER,
    FOLLOWERS_CAP,
    NANO_MAX_FOLLOWERS,
)
from models_py.synth.text import (
    TEXT,
    Builder,
    build_styles,
    concat,
    make_unique,
    pick,
    text_array,
)

INTERNATIONAL_SHARE = 0.08  # of influencers with a non-Indian name
CELEBRITY_PARETO_ALPHA = 1.15


def influencer_numbers(
    rng: np.random.Generator, n_small: int, n_celebrities: int
) -> dict[str, np.ndarray]:
    """Followers, tier code, ER and posts of ``n_small`` nano/micro and ``n_celebrities``
    celebrity accounts, in random order."""
    small = truncated_lognormal(rng, 9_000.0, 1.1, 500, CELEBRITY_FOLLOWERS - 1, n_small)
    # Truncated Pareto via inverse CDF: heavy tail to a few million, no pile-up at the cap.
    alpha = CELEBRITY_PARETO_ALPHA
    u = rng.random(n_celebrities) * (1 - (CELEBRITY_FOLLOWERS / FOLLOWERS_CAP) ** alpha)
    celebrities = CELEBRITY_FOLLOWERS * (1 - u) ** (-1 / alpha)
    followers = np.rint(np.concatenate([small, celebrities])).astype(np.int64)
    followers = followers[rng.permutation(followers.size)]
    tier = np.select(
        [followers < NANO_MAX_FOLLOWERS, followers < CELEBRITY_FOLLOWERS], [0, 1], 2
    ).astype(np.int8)
    er_median = np.array(ER_MEDIAN_BY_TIER)[tier]
    er = np.round(truncated_lognormal(rng, er_median, ER_LOG_SD, *CLEAN_ER_RANGE, tier.size), 2)
    posts = np.rint(truncated_lognormal(rng, 500.0, 0.9, *CLEAN_POSTS_RANGE, tier.size))
    return {"followers": followers, "tier": tier, "er": er, "posts": posts.astype(np.int64)}


def _brand_names(
    rng: np.random.Generator, adjective: np.ndarray, noun: np.ndarray, city: np.ndarray
) -> np.ndarray:
    """Page names: "Official Page-The Desi Diaries", "Chennai Memes", ..."""
    return build_styles(
        rng.integers(0, 4, adjective.size),
        [
            lambda j: concat("Official Page-The ", adjective[j], " ", noun[j]),
            lambda j: concat(city[j], " ", noun[j]),
            lambda j: concat("The ", adjective[j], " ", noun[j]),
            lambda j: concat(adjective[j], " ", noun[j], " Official"),
        ],
    )


def person_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Display names and handles; handles are unique, lower-case, [a-z0-9._]."""
    international = rng.random(n) < INTERNATIONAL_SHARE
    n_first, n_last = words.N_INDIAN_FIRST_NAMES, words.N_INDIAN_LAST_NAMES
    first_code = np.where(
        international,
        rng.integers(n_first, len(words.FIRST_NAMES), n),
        rng.integers(0, n_first, n),
    )
    last_code = np.where(
        international,
        rng.integers(n_last, len(words.LAST_NAMES), n),
        rng.integers(0, n_last, n),
    )
    first, last = words.FIRST_NAMES[first_code], words.LAST_NAMES[last_code]
    native = words.NATIVE_FIRST_NAMES[first_code]
    has_native = np.strings.str_len(native) > 0
    adjective_code = rng.integers(0, len(words.BRAND_ADJECTIVES), n)
    noun_code = rng.integers(0, len(words.BRAND_NOUNS), n)
    city_code = rng.integers(0, len(words.CITIES), n)
    city = words.CITIES[city_code]

    def full(i: np.ndarray) -> np.ndarray:
        return concat(first[i], " ", last[i])

    def emoji(i: np.ndarray) -> np.ndarray:
        return pick(rng, words.EMOJI, i.size)

    def profession(i: np.ndarray) -> np.ndarray:
        return pick(rng, words.PROFESSIONS, i.size)

    def brand(i: np.ndarray) -> np.ndarray:
        adjective = words.BRAND_ADJECTIVES[adjective_code[i]]
        return _brand_names(rng, adjective, words.BRAND_NOUNS[noun_code[i]], city[i])

    name_styles: list[tuple[float, Builder]] = [
        (0.42, full),
        (0.12, lambda i: np.strings.lower(full(i))),  # "tejaswini wagh"
        (0.10, lambda i: concat(full(i), " ", emoji(i))),
        (0.07, lambda i: np.where(has_native[i], concat(full(i), " ", native[i]), full(i))),
        (0.05, lambda i: concat(first[i], " ", emoji(i))),
        (0.02, lambda i: np.where(has_native[i], concat(native[i], " ", emoji(i)), full(i))),
        # "BEAUTY EDUCATOR 🇮🇳 New Delhi, India 🌍"
        (0.05, lambda i: concat(np.strings.upper(profession(i)), " 🇮🇳 ", city[i], ", India 🌍")),
        (0.06, lambda i: concat(full(i), " | ", profession(i))),
        (0.11, brand),  # last: its rows get brand handles below
    ]
    probs = np.array([p for p, _ in name_styles])
    style = rng.choice(len(name_styles), size=n, p=probs / probs.sum())
    names = build_styles(style, [build for _, build in name_styles])

    handles = _person_handles(rng, first_code, last_code)
    brands = np.flatnonzero(style == len(name_styles) - 1)
    handles[brands] = _brand_handles(
        rng, adjective_code[brands], noun_code[brands], city_code[brands]
    )
    return names, make_unique(rng, handles)


def _person_handles(
    rng: np.random.Generator, first_code: np.ndarray, last_code: np.ndarray
) -> np.ndarray:
    first, last = words.FIRST_NAME_SLUGS[first_code], words.LAST_NAME_SLUGS[last_code]
    number = rng.integers(1, 100, first.size).astype(TEXT)
    patterns: list[Builder] = [
        lambda i: concat(first[i], last[i]),
        lambda i: concat(first[i], ".", last[i]),
        lambda i: concat(first[i], "_", last[i]),
        lambda i: concat(last[i], first[i]),
        lambda i: concat(first[i], ".", last[i], number[i]),
        lambda i: concat("the", first[i], last[i]),
        lambda i: concat(first[i], "_official"),
        lambda i: concat("its", first[i], last[i]),
        lambda i: concat(first[i], last[i], "_"),
        lambda i: concat(first[i], number[i]),
        lambda i: concat("real", first[i]),
        lambda i: concat(first[i], "__", last[i]),
    ]
    return build_styles(rng.integers(0, len(patterns), first.size), patterns)


def _brand_handles(
    rng: np.random.Generator,
    adjective_code: np.ndarray,
    noun_code: np.ndarray,
    city_code: np.ndarray,
) -> np.ndarray:
    """Page handles like "desi.diaries" or "thechennai_memes": [the]<adjective|city>[sep]<noun>."""
    n = adjective_code.size
    separator = pick(rng, text_array(["", ".", "_"]), n)
    word = np.where(
        rng.random(n) < 0.5,
        words.BRAND_ADJECTIVE_SLUGS[adjective_code],
        words.CITY_SLUGS[city_code],
    )
    prefix = np.where(rng.random(n) < 0.3, "the", "")
    return concat(prefix, word, separator, words.BRAND_NOUN_SLUGS[noun_code])


def bios(rng: np.random.Generator, n: int) -> np.ndarray:
    """One to three phrases; long ones truncated like the scraped "...li..." bios."""
    phrases = [pick(rng, words.BIO_PHRASES, n) for _ in range(3)]
    n_phrases = rng.choice([1, 2, 3], size=n, p=[0.35, 0.45, 0.2])
    bio = phrases[0]
    for j in (1, 2):
        joined = concat(bio, pick(rng, words.BIO_SEPARATORS, n), phrases[j])
        bio = np.where(n_phrases > j, joined, bio)
    cut = (np.strings.str_len(bio) > 48) & (rng.random(n) < 0.7)
    bio[cut] = concat(np.strings.slice(bio[cut], 0, 45), "...")
    return bio
