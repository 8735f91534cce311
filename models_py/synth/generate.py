"""Synthetic ReelRec source data with a planted, recorded truth.

Mirrors the internship report's ``data1.xlsx``/``data2.xlsx``: one row per (influencer, song used
in a reel) with the report's 17 columns. Ratings (``Delta``) come from a known biased
matrix-factorisation model, so recommenders can be scored against an oracle, and the raw cells
carry realistic dirt at known rates, so the cleaning pipeline can be checked row by row against
``truth/rows.parquet``. Models must never read ``truth/``.

Everything is vectorised numpy/pyarrow (no Python loop over rows except the unavoidable
openpyxl ``append`` for the small xlsx default), so ``--scale 10000000`` fits in a few GB.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import re
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

S = np.dtypes.StringDType()


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


# The report's 17 source columns, in order.
COLUMNS: tuple[str, ...] = tuple(
    _words(
        "Song use_count Name Followers Posts Bio URL ER title release artist_name year Delta "
        "Curr_ER Comments Likes Time"
    )
)
# Numeric cells that may hold junk, padding or null tokens (index = junk/pad column code).
DIRTY_NUMERIC = ("use_count", "Followers", "Posts", "ER", "Delta", "Likes", "Comments", "Time")
J_USE, J_FOL, J_POSTS, J_ER, J_DELTA, J_LIKES, J_COMMENTS, J_TIME = range(len(DIRTY_NUMERIC))

# Cleaning rules in precedence order: a row is quarantined by the FIRST rule it fails.
REJECT_RULES: tuple[str, ...] = (
    "missing_url_or_song",
    "unparseable_number",
    "posts_over_max",
    "er_over_max",
    "use_count_over_posts",
    "duplicate_url_song",
)
# Harmless dirt: the row stays clean and every value must still parse to the right thing.
HARMLESS_KINDS: tuple[str, ...] = tuple(
    _words(
        "thousands_sep er_percent followers_abbrev padded time_text url_variant "
        "blank_likes_comments blank_time blank_delta blank_name blank_bio blank_release null_token"
    )
)
DIRT_KINDS = REJECT_RULES + HARMLESS_KINDS
BIT = {kind: 1 << i for i, kind in enumerate(DIRT_KINDS)}
REJECT_MASK = sum(BIT[r] for r in REJECT_RULES)

MAX_POSTS = 15_000  # cleaning thresholds: Posts > MAX_POSTS or ER > MAX_ER is rejected
MAX_ER = 12.0
CLEAN_ER_RANGE = (0.1, 11.9)
ER_LOG_SD = 0.4  # spread of ER around the tier medians (nano 4, micro 2.5, celebrity 1.2)
CLEAN_POSTS_RANGE = (30, 15_000)
NANO_MAX, MICRO_MAX, FOLLOWERS_CAP = 10_000, 80_000, 5_000_000
TIERS = ("nano", "micro", "celebrity")
XLSX_MAX_ROWS = 59_999  # each workbook stays below 60,000 data rows
PART_ROWS = 1_000_000
SONGS_PER_USER_CAP = 200
FIXED_XLSX_TIME = "2021-06-01T00:00:00Z"  # report era; makes docProps/core.xml reproducible
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

NULL_TOKENS = np.array(["", "NA", "N/A", "null", "None", "-", "nan"], dtype=S)
JUNK_TOKENS = np.array(
    ["12abc", "1.2.3", "lots", "#VALUE!", "#REF!", "#DIV/0!", "??", "approx 40"], dtype=S
)
URL_UPPER, URL_NO_SLASH, URL_HTTP, URL_NO_WWW, URL_QUERY = (1 << i for i in range(5))

# --- scale presets: rows -> (total influencers, songs); linear between/beyond anchors -------
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
    affinity_alpha: float = 1.0  # usage propensity ~ popularity * exp(alpha * p_u.q_i)
    zipf_exponent: float = 0.6  # popularity ~ (rank + offset) ** -exponent
    # Share of the variance of the latent that ranks song popularity coming from the artist:
    # a new song by an artist whose songs are used widely tends to be used widely too.
    artist_popularity_share: float = 0.5
    zipf_offset: float = 4.0
    candidate_multiplier: int = 5
    songs_per_user_sigma: float = 1.1


# ---------------------------------------------------------------------------------------------
# Embedded word lists (no Faker): small, but combined they give plenty of variety.
# ---------------------------------------------------------------------------------------------
IN_FIRST = _words(
    "Aarav Aditi Aditya Akash Ananya Anjali Arjun Ayesha Deepika Divya Gaurav Ishaan Kavya Kiran "
    "Meera Neha Nikhil Pooja Priya Rahul Riya Rohan Sakshi Sanjana Shreya Siddharth Sneha Tanvi "
    "Tejaswini Varun Vikram Zoya Nigar Farhan Imran Harpreet Gurleen Manpreet Lakshmi Karthik "
    "Suriya Meenakshi Arun Venkat Sowmya Rashmi Pallavi Shruti Nandini Simran Kabir Vihaan Aisha "
    "Fatima Sara Ritika Mahima Ira Tara Devansh Yash Parth Kunal Ankit Mohit Rupal Komal Jasmine "
    "Ishita Mehak Aman Rajat Abhishek Payal Swati Naveen Harsha Prakash Bhavna Chetan"
)
INTL_FIRST = _words(
    "Emma Liam Olivia Noah Sofia Lucas Mia Leo Chloe Mateo Yuki Hana Omar Layla Elif Lena Jonas "
    "Camila Diego Aiko Zara Nadia Ivan Anna Mila Ethan Grace Mohammed Sven Lucia"
)
IN_LAST = _words(
    "Sharma Verma Gupta Singh Kumar Patel Shah Mehta Iyer Nair Reddy Rao Menon Pillai Chatterjee "
    "Banerjee Mukherjee Das Bose Ghosh Kapoor Khanna Malhotra Chopra Joshi Kulkarni Deshpande Wagh "
    "Patil Jadhav Khan Ansari Qureshi Siddiqui Sheikh Gill Sandhu Dhillon Bhatt Trivedi Pandey "
    "Mishra Tiwari Yadav Chauhan Rathore Agarwal Bansal Goel Saxena Sethi Arora Bajwa Naidu "
    "Krishnan Subramaniam Fernandes D'Souza Pereira Thomas"
)
INTL_LAST = _words(
    "Smith Johnson Garcia Martinez Rossi Muller Dubois Silva Santos Kim Tanaka Sato Novak Ivanova "
    "Haddad Yilmaz Nguyen Lopez Andersson Kowalski Brown Wilson Costa Moreau Jensen Okafor"
)
# Native-script spellings used as a suffix ("Nigar Khan نگار") or alone.
NATIVE_FIRST = {
    "Priya": "प्रिया",
    "Rahul": "राहुल",
    "Neha": "नेहा",
    "Arjun": "अर्जुन",
    "Ananya": "अनन्या",
    "Aditi": "अदिति",
    "Rohan": "रोहन",
    "Pooja": "पूजा",
    "Kavya": "काव्या",
    "Vikram": "विक्रम",
    "Shreya": "श्रेया",
    "Nigar": "نگار",
    "Fatima": "فاطمہ",
    "Ayesha": "عائشہ",
    "Imran": "عمران",
    "Farhan": "فرحان",
    "Zoya": "زویا",
    "Karthik": "கார்த்திக்",
    "Lakshmi": "லட்சுமி",
    "Suriya": "சூர்யா",
    "Meenakshi": "மீனாட்சி",
    "Harpreet": "ਹਰਪ੍ਰੀਤ",
    "Omar": "عمر",
    "Layla": "ليلى",
    "Yuki": "ゆき",
}
EMOJI = _words("🌸 ✨ 💫 🌍 🇮🇳 💄 📸 🎶 💃 🔥 ❤️ 🌈 🦋 🍃 👑 🎬 🌙 ☕")
CITIES = _words(
    "Mumbai|New Delhi|Bangalore|Chennai|Kolkata|Hyderabad|Pune|Jaipur|Lucknow|Ahmedabad|Kochi|"
    "Indore|Chandigarh|Goa|Surat|Bhopal|Nagpur|Dubai",
    "|",
)
PROFESSIONS = _words(
    "Beauty Educator|Fashion Blogger|Food Blogger|Travel Creator|Makeup Artist|Fitness Coach|"
    "Dancer|Actor|Content Creator|Lifestyle Influencer|Digital Creator|Model|Photographer|"
    "Stand-up Comedian|Singer|Yoga Teacher|Nutritionist|Stylist",
    "|",
)
BRAND_ADJ = _words(
    "Desi Bollywood Filmy Foodie Travel Daily Happy Crazy Royal Indian Urban Tasty Funky Ethnic "
    "Quirky Masala Chai Monsoon Retro"
)
BRAND_NOUN = _words(
    "Diaries Memes Foodies Vibes Stories Tales Beats Eats Trends Closet Kitchen Wanderers Moments "
    "Chronicles Glam Adda Bazaar Talkies"
)
BIO_SEGMENTS = _words(
    "You'll never find peace of mind until you listen to your heart;"
    "Find something amazing. Use our hashtag #desi_diaries;Dream big, work hard, stay humble;"
    "Living life one reel at a time 🎬;Not all who wander are lost 🌍;Coffee, chaos and content ☕;"
    "Be your own kind of beautiful 🦋;Spreading smiles since 1998;Good vibes only ✨;"
    "Creating content that makes you smile;Life is short, make every outfit count;"
    "Fashion | Lifestyle | Travel;Beauty educator 💄;Food blogger 🍜;Fitness coach 🏋️;Dancer 💃;"
    "Actor 🎬;Digital creator;Makeup artist;Travel junkie ✈️;Mom of two 👶;"
    "Engineer by degree, creator by choice;Stand-up comedian 🎤;Classical singer 🎶;"
    "Yoga teacher 🧘;Photographer 📸;📍 Mumbai;📍 New Delhi, India 🌍;Based in Bangalore;"
    "Chennai ↔ Dubai;Pune, India 🇮🇳;DM for collabs 📩;For business enquiries: DM;"
    "Collab: mail in bio 📧;Shop the look 👇;Watch my latest reel 👇;Link in bio;"
    "Subscribe to my YouTube 🎥;Managed by @socialkatta;Managed by @glamtalent.in;"
    "Founder @desi.diaries;Associated with @reelfactory;Co-founder @pixelstudio_;"
    "#reels #instagood;#fashion #ootd;#foodie #mumbai;#travelgram;#desi #bollywood;"
    "#makeup #beauty;#fitness #gym;जीवन एक यात्रा है ✨;खुश रहो, मुस्कुराते रहो;अपना टाइम आएगा;"
    "सपने देखो, पूरे करो;الحمد لله;ما شاء الله;زندگی خوبصورت ہے;வாழ்க வளமுடன்",
    ";",
)
BIO_SEPARATORS = (" | ", " • ", ". ", " ")
TITLE_NOUNS = _words(
    "Water Fire Heart Love Night Rain Cove Sky River Dream Road Light Shadow Moon Sun Ocean Storm "
    "Home Summer Winter City Song Memory Stone Wind Gold Silver Angel Ghost Mirror Garden Thunder "
    "Island Highway Paradise Echo Horizon Kingdom Diamond Rose"
)
TITLE_ADJ = _words(
    "Thicker Lonely Electric Broken Golden Silent Wild Blue Dark Sweet Cold Young Endless Lost "
    "Hollow Crazy Little Beautiful Strange Velvet Neon Midnight Fading Brighter"
)
TITLE_COMPARATIVES = _words(
    "Thicker Brighter Colder Sweeter Stronger Louder Deeper Higher Closer Faster Darker Softer "
    "Wilder Bigger Older Heavier"
)
TITLE_VERBS = _words(
    "Dancing Running Falling Waiting Dreaming Driving Chasing Breaking Flying Walking"
)
TITLE_PREPS = _words("In The|On The|Through The|Under The|Across The|Into The|Over The", "|")
FOREIGN_WORDS = _words(
    "Corazón Noche Amor Luna Fuego Vida Sueños Canción Mañana Libertad Rakkaus Yö Sydän Kesä "
    "Tähti Meri Talvi Kaipuu Sade Liebe Nacht Herz Sommer Schmetterling Sehnsucht Himmel Freiheit "
    "Traum Amour Nuit Soleil Rêve Saudade Coração"
)
TITLE_SUFFIXES = _words(
    " (Live)| (Album Version)| (Remix)| (Acoustic)| (Remastered)| [Explicit]| (Radio Edit)|"
    " (LP Version)",
    "|",
)
ARTIST_FIRST = _words(
    "Jack Norah Bob Amy Miles Ella Frank Johnny Nina Ray Etta Tom Lana Leonard Joni Elton Carole "
    "Otis Aretha Marvin Dolly Willie Patti Neil Ingrid Sven Matti Juan Carlos Rosa Lucia Hans "
    "Klaus Anja Pierre Arijit Shreya Sonu Sunidhi Kishore Asha Lata"
)
ARTIST_LAST = _words(
    "Johnson Jones Dylan Winehouse Davis Fitzgerald Sinatra Cash Simone Charles James Waits Rey "
    "Cohen Mitchell John King Redding Franklin Gaye Parton Nelson Smith Young Berg Lindqvist "
    "Virtanen Luis Santana Morales Herrera Becker Schmidt Weber Laurent Singh Ghoshal Nigam "
    "Chauhan Kumar Bhosle Mangeshkar"
)


def _s(values: Sequence[str]) -> np.ndarray:
    return np.array(values, dtype=S)


def _slug(values: Sequence[str]) -> np.ndarray:
    """Lower-case ASCII letters/digits only, for handles ("D'Souza" -> "dsouza")."""
    return _s([re.sub(r"[^a-z0-9]", "", v.lower()) for v in values])


FIRST = _s(IN_FIRST + INTL_FIRST)
LAST = _s(IN_LAST + INTL_LAST)
FIRST_SLUG, LAST_SLUG = _slug(IN_FIRST + INTL_FIRST), _slug(IN_LAST + INTL_LAST)
NATIVE = _s([NATIVE_FIRST.get(f, "") for f in IN_FIRST + INTL_FIRST])
W = {
    name: _s(words)
    for name, words in {
        "emoji": EMOJI,
        "city": CITIES,
        "prof": PROFESSIONS,
        "badj": BRAND_ADJ,
        "bnoun": BRAND_NOUN,
        "bio": BIO_SEGMENTS,
        "biosep": BIO_SEPARATORS,
        "noun": TITLE_NOUNS,
        "adj": TITLE_ADJ,
        "comp": TITLE_COMPARATIVES,
        "verb": TITLE_VERBS,
        "prep": TITLE_PREPS,
        "foreign": FOREIGN_WORDS,
        "suffix": TITLE_SUFFIXES,
        "afirst": ARTIST_FIRST,
        "alast": ARTIST_LAST,
    }.items()
}
W["city_slug"], W["badj_slug"], W["bnoun_slug"] = _slug(CITIES), _slug(BRAND_ADJ), _slug(BRAND_NOUN)


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------
def _cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars."""
    out = np.asarray(parts[0], dtype=S)
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def _pick(rng: np.random.Generator, words: np.ndarray, n: int) -> np.ndarray:
    return words[rng.integers(0, len(words), n)]


def _build(style: np.ndarray, builders: Sequence[Callable[[np.ndarray], np.ndarray]]) -> np.ndarray:
    """out[i] = builders[style[i]](...)[i], computing each style only on its own subset.

    (Not np.choose: it corrupts long StringDType strings in numpy 2.4.)
    """
    out = np.empty(style.size, dtype=S)
    for k, build in enumerate(builders):
        idx = np.flatnonzero(style == k)
        if idx.size:
            out[idx] = build(idx)
    return out


def _by_style(
    rng: np.random.Generator, n: int, probs: Sequence[float], builders: Sequence[Callable]
) -> np.ndarray:
    """Pick a style per row with the given probabilities, then build each style's strings."""
    return _build(rng.choice(len(probs), size=n, p=np.asarray(probs) / np.sum(probs)), builders)


def _choose(rng: np.random.Generator, eligible: np.ndarray, count: int) -> np.ndarray:
    """Exactly min(count, #eligible) distinct indices where ``eligible`` is true."""
    idx = np.flatnonzero(eligible)
    count = min(count, idx.size)
    return np.sort(idx[rng.choice(idx.size, size=count, replace=False)]) if count else idx[:0]


def _truncated_lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, lo: float, hi: float, n: int
) -> np.ndarray:
    """Lognormal draws restricted to [lo, hi] by resampling (no pile-up at the bounds)."""
    med = np.broadcast_to(np.asarray(median, dtype=float), (n,))
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        x = med[todo] * np.exp(sigma * rng.standard_normal(todo.size))
        ok = (x >= lo) & (x <= hi)
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
    return out


def _make_unique(
    rng: np.random.Generator, values: np.ndarray, words: np.ndarray | None = None
) -> np.ndarray:
    """Give later repeats a suffix until all strings are distinct.

    Suffixes are ``words`` (one round, e.g. " Trio") when given, then digits ("priya.sharma_42").
    """
    values = values.copy()
    for attempt in range(1000):
        _, first = np.unique(values, return_index=True)
        repeat = np.ones(values.size, dtype=bool)
        repeat[first] = False
        m = int(repeat.sum())
        if not m:
            return values
        if words is not None and attempt == 0:
            suffix = _pick(rng, words, m)
        else:
            sep = _s([" "] if words is not None else ["", "_", "."])
            suffix = _cat(_pick(rng, sep, m), rng.integers(1, 1_000, m).astype(S))
        values[repeat] = _cat(values[repeat], suffix)
    raise RuntimeError("could not make strings unique")


def _row_dot(a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """sum_f a[ia, f] * b[ib, f] without materialising the gathered (n, k) matrices."""
    out = np.zeros(ia.size)
    for f in range(a.shape[1]):
        out += a[ia, f] * b[ib, f]
    return out


# ---------------------------------------------------------------------------------------------
# Influencers
# ---------------------------------------------------------------------------------------------
def _influencer_numbers(
    rng: np.random.Generator, n_small: int, n_celeb: int
) -> dict[str, np.ndarray]:
    small = _truncated_lognormal(rng, 9_000.0, 1.1, 500, MICRO_MAX - 1, n_small)
    # Truncated Pareto via inverse CDF: heavy tail to a few million, no pile-up at the cap.
    alpha = 1.15
    u = rng.random(n_celeb) * (1 - (MICRO_MAX / FOLLOWERS_CAP) ** alpha)
    celeb = MICRO_MAX * (1 - u) ** (-1 / alpha)
    followers = np.rint(np.concatenate([small, celeb])).astype(np.int64)
    followers = followers[rng.permutation(followers.size)]
    tier = np.select([followers < NANO_MAX, followers < MICRO_MAX], [0, 1], 2).astype(np.int8)
    er_median = np.array([4.0, 2.5, 1.2])[tier]
    er = np.round(_truncated_lognormal(rng, er_median, ER_LOG_SD, *CLEAN_ER_RANGE, tier.size), 2)
    posts = np.rint(_truncated_lognormal(rng, 500.0, 0.9, *CLEAN_POSTS_RANGE, tier.size))
    return {"followers": followers, "tier": tier, "er": er, "posts": posts.astype(np.int64)}


def _person_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Display names and handles; handles are unique, lower-case, [a-z0-9._]."""
    intl = rng.random(n) < 0.08
    n_in_first, n_in_last = len(IN_FIRST), len(IN_LAST)
    fi = np.where(intl, rng.integers(n_in_first, len(FIRST), n), rng.integers(0, n_in_first, n))
    li = np.where(intl, rng.integers(n_in_last, len(LAST), n), rng.integers(0, n_in_last, n))
    first, last, native = FIRST[fi], LAST[li], NATIVE[fi]
    has_native = np.strings.str_len(native) > 0
    badj, bnoun, city = (rng.integers(0, len(W[k]), n) for k in ("badj", "bnoun", "city"))

    def full(i: np.ndarray) -> np.ndarray:
        return _cat(first[i], " ", last[i])

    def extra(key: str, i: np.ndarray) -> np.ndarray:
        return _pick(rng, W[key], i.size)

    def brand(i: np.ndarray) -> np.ndarray:  # "Official Page-The Desi Diaries", "Chennai Memes"
        adj, noun, cty = W["badj"][badj[i]], W["bnoun"][bnoun[i]], W["city"][city[i]]
        return _build(
            rng.integers(0, 4, i.size),
            [
                lambda j: _cat("Official Page-The ", adj[j], " ", noun[j]),
                lambda j: _cat(cty[j], " ", noun[j]),
                lambda j: _cat("The ", adj[j], " ", noun[j]),
                lambda j: _cat(adj[j], " ", noun[j], " Official"),
            ],
        )

    name_styles = [
        (0.42, full),
        (0.12, lambda i: np.strings.lower(full(i))),  # "tejaswini wagh"
        (0.10, lambda i: _cat(full(i), " ", extra("emoji", i))),
        (0.07, lambda i: np.where(has_native[i], _cat(full(i), " ", native[i]), full(i))),
        (0.05, lambda i: _cat(first[i], " ", extra("emoji", i))),
        (0.02, lambda i: np.where(has_native[i], _cat(native[i], " ", extra("emoji", i)), full(i))),
        # "BEAUTY EDUCATOR 🇮🇳 New Delhi, India 🌍"
        (
            0.05,
            lambda i: _cat(
                np.strings.upper(extra("prof", i)), " 🇮🇳 ", W["city"][city[i]], ", India 🌍"
            ),
        ),
        (0.06, lambda i: _cat(full(i), " | ", extra("prof", i))),
        (0.11, brand),
    ]
    probs = np.array([p for p, _ in name_styles])
    style = rng.choice(len(name_styles), size=n, p=probs / probs.sum())
    names = _build(style, [build for _, build in name_styles])

    f, lst = FIRST_SLUG[fi], LAST_SLUG[li]
    nn = rng.integers(1, 100, n).astype(S)
    handle_patterns = [
        lambda i: _cat(f[i], lst[i]),
        lambda i: _cat(f[i], ".", lst[i]),
        lambda i: _cat(f[i], "_", lst[i]),
        lambda i: _cat(lst[i], f[i]),
        lambda i: _cat(f[i], ".", lst[i], nn[i]),
        lambda i: _cat("the", f[i], lst[i]),
        lambda i: _cat(f[i], "_official"),
        lambda i: _cat("its", f[i], lst[i]),
        lambda i: _cat(f[i], lst[i], "_"),
        lambda i: _cat(f[i], nn[i]),
        lambda i: _cat("real", f[i]),
        lambda i: _cat(f[i], "__", lst[i]),
    ]
    handles = _build(rng.integers(0, len(handle_patterns), n), handle_patterns)
    brands = np.flatnonzero(style == len(name_styles) - 1)
    sep = _pick(rng, _s(["", ".", "_"]), brands.size)
    word = np.where(
        rng.random(brands.size) < 0.5, W["badj_slug"][badj[brands]], W["city_slug"][city[brands]]
    )
    prefix = np.where(rng.random(brands.size) < 0.3, "the", "")
    handles[brands] = _cat(prefix, word, sep, W["bnoun_slug"][bnoun[brands]])
    return names, _make_unique(rng, handles)


def _bios(rng: np.random.Generator, n: int) -> np.ndarray:
    """One to three phrases; long ones truncated like the scraped "...li..." bios."""
    segs = [_pick(rng, W["bio"], n) for _ in range(3)]
    n_seg = rng.choice([1, 2, 3], size=n, p=[0.35, 0.45, 0.2])
    bio = segs[0]
    for j in (1, 2):
        bio = np.where(n_seg > j, _cat(bio, _pick(rng, W["biosep"], n), segs[j]), bio)
    cut = (np.strings.str_len(bio) > 48) & (rng.random(n) < 0.7)
    bio[cut] = _cat(np.strings.slice(bio[cut], 0, 45), "...")
    return bio


# ---------------------------------------------------------------------------------------------
# Songs
# ---------------------------------------------------------------------------------------------
def _msd_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted unique MSD-style ids: SO + 5 letters + 12A + 2 infix + 6 hex (SOAKIMP12A8C130995)."""
    letters = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
    hexd = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
    infix = np.frombuffer(b"8CB08EF0AB81BA", dtype=np.uint8).reshape(-1, 2)
    ids = np.empty(0, dtype="S18")
    while ids.size < n:
        m = 2 * (n - ids.size) + 8
        buf = np.empty((m, 18), dtype=np.uint8)
        buf[:, 0:2] = np.frombuffer(b"SO", dtype=np.uint8)
        buf[:, 2:7] = letters[rng.integers(0, 26, (m, 5))]
        buf[:, 7:10] = np.frombuffer(b"12A", dtype=np.uint8)
        buf[:, 10:12] = infix[rng.integers(0, len(infix), m)]
        buf[:, 12:18] = hexd[rng.integers(0, 16, (m, 6))]
        ids = np.unique(np.concatenate([ids, buf.view("S18").ravel()]))
    ids = np.sort(ids[rng.choice(ids.size, size=n, replace=False)])
    return ids.astype("U18").astype(S)


def _artist_names(rng: np.random.Generator, n: int) -> np.ndarray:
    def person(i: np.ndarray) -> np.ndarray:
        return _cat(_pick(rng, W["afirst"], i.size), " ", _pick(rng, W["alast"], i.size))

    def band(i: np.ndarray) -> np.ndarray:
        noun = _cat(_pick(rng, W["noun"], i.size), "s")
        return _cat("The ", _pick(rng, W["adj"], i.size), " ", noun)

    names = _by_style(
        rng,
        n,
        [0.45, 0.2, 0.1, 0.05, 0.05, 0.15],
        [
            person,
            band,
            lambda i: _pick(rng, W["foreign"], i.size),
            lambda i: _cat(_pick(rng, _s(["DJ ", "MC "]), i.size), _pick(rng, W["noun"], i.size)),
            lambda i: _cat(person(i), " & The ", _pick(rng, W["noun"], i.size), "s"),
            lambda i: _cat(_pick(rng, W["foreign"], i.size), " ", _pick(rng, W["foreign"], i.size)),
        ],
    )
    # Distinct artists need distinct names, or content-based models would merge them.
    suffixes = _s([" Trio", " Band", " Collective", " Quartet", " Project", " & Friends", " Jr."])
    return _make_unique(rng, names, suffixes)


def _titles(rng: np.random.Generator, n: int) -> np.ndarray:
    def pick(key: str, i: np.ndarray) -> np.ndarray:
        return _pick(rng, W[key], i.size)

    titles = _by_style(
        rng,
        n,
        [0.2, 0.15, 0.15, 0.15, 0.1, 0.15, 0.1],
        [
            lambda i: _cat(pick("comp", i), " Than ", pick("noun", i)),  # "Thicker Than Water"
            lambda i: _cat("The ", pick("noun", i)),  # "The Cove"
            lambda i: _cat(pick("adj", i), " ", pick("noun", i)),
            lambda i: _cat(pick("verb", i), " ", pick("prep", i), " ", pick("noun", i)),
            lambda i: _cat(pick("noun", i), " Of ", pick("noun", i)),
            lambda i: pick("foreign", i),
            lambda i: _cat(pick("foreign", i), " ", pick("foreign", i)),
        ],
    )
    add = rng.random(n) < 0.1
    titles[add] = _cat(titles[add], _pick(rng, W["suffix"], int(add.sum())))
    return titles


def _albums(rng: np.random.Generator, n: int) -> np.ndarray:
    def pick(key: str, i: np.ndarray) -> np.ndarray:
        return _pick(rng, W[key], i.size)

    return _by_style(
        rng,
        n,
        [0.35, 0.15, 0.15, 0.15, 0.1, 0.1],
        [
            lambda i: _cat(pick("comp", i), " Than ", pick("noun", i)),
            lambda i: _cat(pick("adj", i), " ", pick("noun", i)),
            lambda i: _s(["Greatest Hits"] * i.size),
            lambda i: _cat("Live At ", pick("city", i)),
            lambda i: _cat("The ", pick("adj", i), " Sessions"),
            lambda i: pick("foreign", i),
        ],
    )


def _songs(
    rng: np.random.Generator, n: int, m: ModelParams, blank_release: float
) -> dict[str, Any]:
    n_artists = max(1, n // 4)
    # Zipf-sized catalogues: every artist has at least one song.
    weights = 1.0 / np.arange(1, n_artists + 1) ** 1.1
    sizes = 1 + rng.multinomial(n - n_artists, weights / weights.sum())
    artist = rng.permutation(np.repeat(np.arange(n_artists, dtype=np.int32), sizes))
    # Artists have an era; songs scatter around it; MSD leaves ~45% of years unknown (0).
    era = 1950 + 60 * rng.beta(2.2, 1.3, n_artists)
    year = np.clip(np.rint(era[artist] + rng.normal(0, 5, n)), 1950, 2010).astype(np.int64)
    year[rng.random(n) < m.unknown_year_share] = 0
    decade = np.where(year > 0, (np.minimum(year, 2009) - 1950) // 10 + 1, 0)  # 0 = unknown

    k, sd = m.k, m.song_factor_sd
    residual_share = 1 - m.artist_share - m.decade_share
    a_eff = rng.normal(0, sd * math.sqrt(m.artist_share), (n_artists, k))
    d_eff = rng.normal(0, sd * math.sqrt(m.decade_share), (7, k))
    d_eff[0] = 0.0  # unknown year carries no information
    explained = a_eff[artist] + d_eff[decade]
    resid = rng.normal(0, sd * math.sqrt(residual_share), (n, k))
    factors = explained + resid
    realised = 1 - resid.var(axis=0).sum() / factors.var(axis=0).sum()
    known = 1 - m.unknown_year_share
    planted = (m.artist_share + m.decade_share * known) / (1 - m.decade_share * (1 - known))

    a_bias = rng.normal(0, m.song_bias_sd * math.sqrt(m.song_bias_artist_share), n_artists)
    bias = a_bias[artist] + rng.normal(
        0, m.song_bias_sd * math.sqrt(1 - m.song_bias_artist_share), n
    )
    rank = rng.permutation(n) + 1
    if m.artist_popularity_share > 0:
        # A child stream, so every later draw of this stage (ids, titles) stays as it was.
        child = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
        share = m.artist_popularity_share
        z = math.sqrt(share) * child.normal(size=n_artists)[artist] + math.sqrt(
            1 - share
        ) * child.normal(size=n)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(-z, kind="stable")] = np.arange(1, n + 1)
    popularity = (rank + m.zipf_offset) ** -m.zipf_exponent
    popularity /= popularity.sum()

    albums = _albums(rng, 3 * n_artists)  # each artist releases up to three albums
    release = albums[3 * artist + rng.integers(0, 3, n)]
    return {
        "id": _msd_ids(rng, n),
        "title": _titles(rng, n),
        "release": release,
        "artist": artist,
        "artist_name": _artist_names(rng, n_artists)[artist],
        "year": year,
        "popularity": popularity,
        "bias": bias,
        "factors": factors,
        "blank_release": rng.random(n) < blank_release,
        "explained_share_planted": float(planted),
        "explained_share_realised": float(realised),
        "n_artists": n_artists,
    }


# ---------------------------------------------------------------------------------------------
# Who uses which song
# ---------------------------------------------------------------------------------------------
def _songs_per_user(
    rng: np.random.Generator, n_users: int, total: int, cap: int, sigma: float
) -> np.ndarray:
    """Heavy-tailed counts (min 1, <= cap) that sum exactly to ``total``."""
    raw = rng.lognormal(np.log(4.5), sigma, n_users)

    def counts(c: float) -> np.ndarray:
        return np.clip(np.floor(raw * c) + 1, 1, cap).astype(np.int64)

    lo, hi = 0.0, 1.0
    while counts(hi).sum() < total:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if counts(mid).sum() < total else (lo, mid)
    n = counts(lo)
    while (diff := total - int(n.sum())) != 0:  # +-1 fix-ups on random users with room
        room = n < cap if diff > 0 else n > 1
        n[_choose(rng, room, abs(diff))] += int(np.sign(diff))
    return n


def _top_k_chunk(
    rng: np.random.Generator,
    users: np.ndarray,
    n_u: np.ndarray,
    multiplier: int,
    cdf: np.ndarray,
    user_f: np.ndarray,
    song_f: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gumbel top-k: popularity-drawn candidates, keep the n_u best by affinity + Gumbel.

    A song drawn c times would get the max of c Gumbels, which is distributed as one Gumbel
    + log(c): so deduplicate first (cheap int sort) and add log(count) instead.
    """
    n_songs = cdf.size
    cu = np.repeat(users - users[0], n_u[users] * multiplier + 4).astype(np.int64)
    cs = np.searchsorted(cdf, rng.random(cu.size), side="right").clip(max=n_songs - 1)
    pair, count = np.unique(cu * n_songs + cs, return_counts=True)  # sorted by user, then song
    cu, cs = pair // n_songs, pair % n_songs
    score = alpha * _row_dot(user_f, cu + users[0], song_f, cs) + np.log(count)
    score += rng.gumbel(size=cu.size)
    # One float sort key = (user asc, score desc); scores are far inside (-32, 32).
    order = np.argsort(cu * 64.0 + (32.0 - np.clip(score, -31.9, 31.9)))
    cu, cs = cu[order] + users[0], cs[order]
    starts = np.flatnonzero(np.r_[True, cu[1:] != cu[:-1]])
    rank = np.arange(cu.size) - np.repeat(starts, np.diff(np.r_[starts, cu.size]))
    keep = rank < n_u[cu]
    return cu[keep], cs[keep].astype(np.int32)


def _sample_pairs(
    rng: np.random.Generator,
    n_u: np.ndarray,
    popularity: np.ndarray,
    user_f: np.ndarray,
    song_f: np.ndarray,
    m: ModelParams,
    chunk_candidates: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, song) pairs ~ popularity * exp(alpha p.q), never dense users x songs."""
    cdf = np.cumsum(popularity)
    cdf /= cdf[-1]
    pending = np.arange(n_u.size)
    mult = m.candidate_multiplier
    out_u, out_s = [], []
    for attempt in range(6):
        cost = np.cumsum(n_u[pending] * mult + 4)
        bounds = np.searchsorted(cost, np.arange(chunk_candidates, cost[-1], chunk_candidates))
        retry = []
        for users in np.split(pending, bounds):
            if not users.size:
                continue
            cu, cs = _top_k_chunk(rng, users, n_u, mult, cdf, user_f, song_f, m.affinity_alpha)
            got = np.bincount(cu - users[0], minlength=users[-1] - users[0] + 1)[users - users[0]]
            short = users[got < n_u[users]]
            if short.size and attempt < 5:  # too few distinct candidates: redo with more
                ok = ~np.isin(cu, short)
                cu, cs = cu[ok], cs[ok]
                retry.append(short)
            out_u.append(cu)
            out_s.append(cs)
        if not retry:
            break
        pending, mult = np.concatenate(retry), mult * 4
    user = np.concatenate(out_u).astype(np.int32)
    song = np.concatenate(out_s)
    order = np.argsort(user, kind="stable")
    return user[order], song[order]


# ---------------------------------------------------------------------------------------------
# Dirt
# ---------------------------------------------------------------------------------------------
def _has(bits: np.ndarray, kind: str) -> np.ndarray:
    return (bits & BIT[kind]) != 0


def _cell_blank(rows: dict[str, np.ndarray], col: int | np.ndarray) -> np.ndarray:
    """Harmless blanks per dirty-numeric column code (scalar or per-row)."""
    bits = rows["bits"]
    return (
        ((col == J_DELTA) & _has(bits, "blank_delta"))
        | (((col == J_LIKES) | (col == J_COMMENTS)) & _has(bits, "blank_likes_comments"))
        | ((col == J_TIME) & _has(bits, "blank_time"))
    )


def _comma_cells(
    rows: dict[str, np.ndarray], values: dict[int, np.ndarray]
) -> dict[int, np.ndarray]:
    """Cells that get thousands separators: flagged row, value >= 1000, not junk/blank/abbrev."""
    out = {}
    for col in (J_FOL, J_POSTS, J_LIKES, J_COMMENTS):
        ok = rows["commas"] & (values[col] >= 1000) & (rows["junk_col"] != col)
        ok &= ~_cell_blank(rows, col)
        if col == J_FOL:
            ok &= ~rows["abbrev"]
        out[col] = ok
    return out


def _influencer_dirt(
    rng: np.random.Generator, inf: dict[str, Any], n_u: np.ndarray, rates: DirtRates
) -> None:
    """Influencer-level rejecting dirt, written into the influencer's (raw) attributes."""
    n = n_u.size
    rule = np.full(n, -1, dtype=np.int8)
    celebs = inf["tier"] == 2
    candidates = celebs & (n_u >= 3) if (celebs & (n_u >= 3)).any() else n_u >= 1
    brand = int(_choose(rng, candidates, 1)[0])  # "Bewakoof": a brand page claiming > 1M posts
    rule[brand] = REJECT_RULES.index("posts_over_max")
    inf["posts"][brand] = rng.integers(1_000_001, 1_500_000)
    inf["name"][brand], inf["handle"][brand] = "Bewakoof", "bewakoof"
    inf["blank_name"][brand] = False
    inf["bio"][brand] = "India's favourite online fashion brand 🛍️ #bewakoof"
    posts_bad = _choose(rng, rule < 0, round(rates.posts_over_max * n))
    rule[posts_bad] = REJECT_RULES.index("posts_over_max")
    inf["posts"][posts_bad] = rng.integers(MAX_POSTS + 1, 60_001, posts_bad.size)
    er_bad = _choose(rng, rule < 0, round(rates.er_over_max * n))
    rule[er_bad] = REJECT_RULES.index("er_over_max")
    inf["er"][er_bad] = np.round(rng.uniform(12.5, 40.0, er_bad.size), 2)
    inf["dirty_rule"] = rule


def _base_row_dirt(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    inf: dict[str, Any],
    rates: DirtRates,
    n_total: int,
    n_dup: int,
) -> np.ndarray:
    """Row-level rejecting dirt on planted rows; returns the rows to duplicate."""
    n = rows["user"].size
    bits = np.zeros(n, dtype=np.int64)
    rule = inf["dirty_rule"][rows["user"]]
    for name in ("posts_over_max", "er_over_max"):
        bits[rule == REJECT_RULES.index(name)] |= BIT[name]
    free = bits == 0  # at most one rejecting dirt per row
    originals = _choose(rng, free, n_dup)
    free[originals] = False

    missing = _choose(rng, free, round(rates.missing_url_or_song * n_total))
    free[missing] = False
    bits[missing] |= BIT["missing_url_or_song"]
    url_not_song = rng.random(missing.size) < 0.5
    rows["blank_url"][missing[url_not_song]] = True
    rows["blank_song"][missing[~url_not_song]] = True

    junk = _choose(rng, free, round(rates.unparseable_number * n_total))
    free[junk] = False
    bits[junk] |= BIT["unparseable_number"]
    rows["junk_col"][junk] = rng.integers(0, len(DIRTY_NUMERIC), junk.size)
    rows["junk_tok"][junk] = rng.integers(0, len(JUNK_TOKENS), junk.size)

    over = _choose(rng, free, round(rates.use_count_over_posts * n_total))
    bits[over] |= BIT["use_count_over_posts"]
    rows["use_count"][over] = inf["posts"][rows["user"][over]] + rng.integers(1, 11, over.size)
    rows["bits"] = bits
    return originals


def _harmless_dirt(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    inf: dict[str, Any],
    songs: dict[str, Any],
    rates: DirtRates,
) -> None:
    """Formatting dirt and NULL-but-kept blanks; only ever recorded where actually visible."""
    n = rows["user"].size
    bits = rows["bits"]
    clean = (bits & REJECT_MASK) == 0
    for kind in ("blank_likes_comments", "blank_time", "blank_delta"):
        bits[_choose(rng, clean, round(getattr(rates, kind) * n))] |= BIT[kind]
    blanks = _cell_blank(rows, J_LIKES) | _cell_blank(rows, J_TIME) | _cell_blank(rows, J_DELTA)
    tok = _choose(rng, blanks, round(rates.null_token * blanks.sum()))
    rows["null_tok"][tok] = rng.integers(0, len(NULL_TOKENS), tok.size)
    bits[tok] |= BIT["null_token"]

    junk_col = rows["junk_col"]
    followers = inf["followers"][rows["user"]]
    big = (followers >= NANO_MAX) & (junk_col != J_FOL)
    rows["abbrev"][_choose(rng, big, round(rates.followers_abbrev * n))] = True
    rows["commas"][_choose(rng, np.ones(n, bool), round(rates.thousands_sep * n))] = True
    values = {
        J_FOL: followers,
        J_POSTS: inf["posts"][rows["user"]],
        J_LIKES: rows["likes"],
        J_COMMENTS: rows["comments"],
    }
    visible = np.logical_or.reduce(list(_comma_cells(rows, values).values()))
    rows["commas"] &= visible
    rows["er_pct"][_choose(rng, junk_col != J_ER, round(rates.er_percent * n))] = True
    time_ok = (junk_col != J_TIME) & ~_cell_blank(rows, J_TIME)
    rows["time_text"][_choose(rng, time_ok, round(rates.time_text * n))] = True
    pad_col = rng.integers(0, len(DIRTY_NUMERIC), n).astype(np.int8)
    pad_ok = (pad_col != junk_col) & ~_cell_blank(rows, pad_col)
    padded = _choose(rng, pad_ok, round(rates.padded * n))
    rows["pad_col"][padded] = pad_col[padded]
    rows["pad_style"][:] = rng.integers(0, 3, n)

    has_url = ~rows["blank_url"]
    dup = _has(bits, "duplicate_url_song")
    variant = np.concatenate(
        [
            _choose(rng, has_url & ~dup, round(rates.url_variant * (~dup).sum())),
            _choose(rng, has_url & dup, round(rates.url_variant_on_duplicates * dup.sum())),
        ]
    )
    flags = (rng.random((variant.size, 5)) < 0.4) @ (1 << np.arange(5))
    flags = np.where(flags == 0, 1 << rng.integers(0, 5, variant.size), flags)
    rows["url_var"][variant] = flags
    rows["url_query"][:] = rng.integers(0, 32, n)

    for flag, kind in (
        ("commas", "thousands_sep"),
        ("er_pct", "er_percent"),
        ("abbrev", "followers_abbrev"),
        ("time_text", "time_text"),
    ):
        bits[rows[flag]] |= BIT[kind]
    bits[rows["pad_col"] >= 0] |= BIT["padded"]
    bits[rows["url_var"] > 0] |= BIT["url_variant"]
    bits[inf["blank_name"][rows["user"]]] |= BIT["blank_name"]
    bits[inf["blank_bio"][rows["user"]]] |= BIT["blank_bio"]
    bits[songs["blank_release"][rows["song"]]] |= BIT["blank_release"]


# ---------------------------------------------------------------------------------------------
# Simulation (everything in memory, no files)
# ---------------------------------------------------------------------------------------------
@dataclass
class Planted:
    """In-memory dataset: entity tables, rows in final written order, and the summary."""

    inf: dict[str, Any]
    songs: dict[str, Any]
    rows: dict[str, np.ndarray]
    params: dict[str, Any]


def default_rows(n_influencers_total: int) -> int:
    """The report's ~100k rows for 12k influencers, i.e. ~8.3 songs per influencer."""
    return round(100_000 * n_influencers_total / 12_000)


def scale_sizes(rows: int) -> tuple[int, int, int]:
    """(nano/micro influencers, celebrities, songs) for ``--scale rows``."""
    r, i, s = (np.array(c, dtype=float) for c in zip(*SCALE_ANCHORS, strict=True))
    if rows <= r[0]:
        total, songs = i[0] * rows / r[0], s[0] * rows / r[0]
    elif rows >= r[-1]:
        total, songs = i[-1] * rows / r[-1], s[-1] * rows / r[-1]
    else:
        total, songs = np.interp(rows, r, i), np.interp(rows, r, s)
    celebs = round(total * CELEBRITY_SHARE)
    return max(1, round(total) - celebs), celebs, max(10, round(songs))


def _validate(
    n_inf: int, n_celeb: int, n_songs: int, n_rows: int | None, rates: DirtRates
) -> tuple[int, int]:
    """Check the sizes; return (written rows, duplicate copies among them)."""
    if n_inf < 0 or n_celeb < 0 or n_inf + n_celeb < 1:
        raise ValueError("need at least one influencer (and no negative counts)")
    if n_songs < 3:
        raise ValueError("need at least 3 songs")
    n_rows = default_rows(n_inf + n_celeb) if n_rows is None else n_rows
    n_dup = round(rates.duplicate_url_song * n_rows)
    cap = min(SONGS_PER_USER_CAP, n_songs // 3)
    if n_rows - n_dup < n_inf + n_celeb:
        raise ValueError(f"{n_rows:,} rows is fewer than one row per influencer")
    if n_rows - n_dup > (n_inf + n_celeb) * cap:
        raise ValueError(f"{n_rows:,} rows need more songs or influencers (<= {cap} songs each)")
    return n_rows, n_dup


def simulate(
    *,
    seed: int = 42,
    n_influencers: int = 10_000,
    n_celebrities: int = 2_000,
    n_songs: int = 10_000,
    n_rows: int | None = None,
    rates: DirtRates | None = None,
    model: ModelParams | None = None,
) -> Planted:
    """Plant the truth and the dirt; rows come back in final written order."""
    rates, m = rates or DirtRates(), model or ModelParams()
    n_users = n_influencers + n_celebrities
    n_rows, n_dup = _validate(n_influencers, n_celebrities, n_songs, n_rows, rates)
    # One independent stream per stage, so tuning one stage never reshuffles the others.
    names = ("inf", "text", "songs", "counts", "pairs", "ratings", "rows", "dirt", "fmt", "order")
    seeds = np.random.SeedSequence(seed).spawn(len(names))
    rng = {name: np.random.default_rng(s) for name, s in zip(names, seeds, strict=True)}

    # Influencers: numbers, text, latent truth (b_u tied to ER so Curr_ER rarely goes negative).
    inf: dict[str, Any] = _influencer_numbers(rng["inf"], n_influencers, n_celebrities)
    clean_er = inf["er"].copy()
    inf["name"], inf["handle"] = _person_names(rng["text"], n_users)
    inf["bio"] = _bios(rng["text"], n_users)
    inf["blank_name"] = rng["text"].random(n_users) < rates.blank_name
    inf["blank_bio"] = rng["text"].random(n_users) < rates.blank_bio
    g = rng["inf"]
    inf["bias"] = -m.er_slope * (clean_er - m.er_ref) + g.normal(0, m.user_bias_sd, n_users)
    inf["factors"] = g.normal(0, m.user_factor_sd, (n_users, m.k))

    songs = _songs(rng["songs"], n_songs, m, rates.blank_release)

    cap = min(SONGS_PER_USER_CAP, n_songs // 3)
    n_u = _songs_per_user(rng["counts"], n_users, n_rows - n_dup, cap, m.songs_per_user_sigma)
    _influencer_dirt(rng["dirt"], inf, n_u, rates)
    inf["url"] = _cat("https://www.instagram.com/", inf["handle"], "/")
    user, song = _sample_pairs(
        rng["pairs"], n_u, songs["popularity"], inf["factors"], songs["factors"], m
    )
    rows = _plant_rows(rng["ratings"], rng["rows"], inf, songs, user, song, m)
    n_base = user.size

    # Dirt: rejecting kinds first (exclusive per row), then duplicates, then harmless kinds.
    originals = _base_row_dirt(rng["dirt"], rows, inf, rates, n_rows, n_dup)
    rows = {key: np.concatenate([v, v[originals]]) for key, v in rows.items()}
    rows["bits"][n_base:] = BIT["duplicate_url_song"]
    n_all = rows["user"].size
    for key, dtype, fill in (
        ("null_tok", np.int8, -1),
        ("pad_col", np.int8, -1),
        ("pad_style", np.int8, 0),
        ("url_var", np.int8, 0),
        ("url_query", np.int8, 0),
        ("commas", bool, False),
        ("er_pct", bool, False),
        ("abbrev", bool, False),
        ("time_text", bool, False),
    ):
        rows[key] = np.full(n_all, fill, dtype=dtype)
    _harmless_dirt(rng["fmt"], rows, inf, songs, rates)

    final = _output_order(rng["order"], rows["song"][:n_base], originals)
    rows = {key: v[final] for key, v in rows.items()}
    params = _summary_params(
        seed, n_influencers, n_celebrities, n_songs, m, rates, inf, songs, rows
    )
    return Planted(inf, songs, rows, params)


def _plant_rows(
    r: np.random.Generator,
    g: np.random.Generator,
    inf: dict[str, Any],
    songs: dict[str, Any],
    user: np.ndarray,
    song: np.ndarray,
    m: ModelParams,
) -> dict[str, np.ndarray]:
    """Ratings, engagement and the other per-row numbers for the planted (user, song) pairs."""
    expected = (
        m.mu
        + inf["bias"][user]
        + songs["bias"][song]
        + _row_dot(inf["factors"], user, songs["factors"], song)
    )
    delta = np.round(expected + r.normal(0, m.sigma, user.size), 6)
    er = inf["er"][user]  # the written ER, as the report computed Curr_ER - ER
    curr = np.round(er + delta, 6)
    censored = curr < 0  # a reel cannot have negative engagement
    curr[censored] = 0.0
    delta[censored] = -er[censored]
    engagement = np.rint(curr / 100 * inf["followers"][user]).astype(np.int64)
    comments = np.rint(engagement * r.uniform(0.05, 0.20, user.size)).astype(np.int64)
    use_count = np.minimum(g.geometric(0.45, user.size), 25)
    heavy = g.random(user.size) < 0.02
    use_count[heavy] = g.integers(5, 26, heavy.sum())
    n = user.size
    return {
        "user": user,
        "song": song,
        "delta": delta,
        "curr_er": curr,
        "delta_expected": expected,
        "censored": censored,
        "likes": engagement - comments,
        "comments": comments,
        "use_count": use_count.astype(np.int64),
        "time": g.integers(1, 61, n),
        "blank_url": np.zeros(n, bool),
        "blank_song": np.zeros(n, bool),
        "junk_col": np.full(n, -1, np.int8),
        "junk_tok": np.zeros(n, np.int8),
    }


def _output_order(g: np.random.Generator, song: np.ndarray, originals: np.ndarray) -> np.ndarray:
    """Planted rows by Song id (song index == sorted id), like the report; each duplicate copy
    (appended after the planted rows) lands after its original: half right behind it, half
    anywhere later (possibly in the next file)."""
    n_base, n_dup = song.size, originals.size
    pos = np.empty(n_base)
    pos[np.lexsort((g.random(n_base), song))] = np.arange(n_base)
    orig_pos = pos[originals]
    far = orig_pos + 1 + g.random(n_dup) * (n_base - 1 - orig_pos)
    dup_key = np.where(g.random(n_dup) < 0.5, orig_pos + 0.5, np.maximum(far, orig_pos + 0.5))
    return np.argsort(np.concatenate([pos, dup_key]), kind="stable")


def expected_rules(bits: np.ndarray) -> np.ndarray:
    """Index into REJECT_RULES of the first rule a row fails, -1 if it should end up clean."""
    out = np.full(bits.size, -1, dtype=np.int8)
    for i, rule in reversed(list(enumerate(REJECT_RULES))):
        out[_has(bits, rule)] = i
    return out


def _summary_params(
    seed: int,
    n_inf: int,
    n_celeb: int,
    n_songs: int,
    m: ModelParams,
    rates: DirtRates,
    inf: dict[str, Any],
    songs: dict[str, Any],
    rows: dict[str, np.ndarray],
) -> dict[str, Any]:
    bits = rows["bits"]
    rule = expected_rules(bits)
    by_rule = {r: int((rule == i).sum()) for i, r in enumerate(REJECT_RULES)}
    base = ~_has(bits, "duplicate_url_song")
    delta = rows["delta"][base]
    users_per_song = np.bincount(rows["song"][base], minlength=n_songs)
    tiers = {t: int((inf["tier"] == i).sum()) for i, t in enumerate(TIERS)}
    dirty_inf = {
        r: int((inf["dirty_rule"] == REJECT_RULES.index(r)).sum()) for r in REJECT_RULES[2:4]
    }
    return {
        "seed": seed,
        "mu": m.mu,
        "sigma": m.sigma,
        "k": m.k,
        "explained_variance_share": {
            "planted": songs["explained_share_planted"],
            "realised": songs["explained_share_realised"],
        },
        "rule_precedence": list(REJECT_RULES),
        "sizes": {
            "n_influencers": n_inf,
            "n_celebrities": n_celeb,
            "n_influencers_total": n_inf + n_celeb,
            "tiers": tiers,
            "n_songs": n_songs,
            "n_artists": songs["n_artists"],
            "n_rows": int(bits.size),
            "n_planted_rows": int(base.sum()),
            "n_duplicate_rows": int((~base).sum()),
        },
        "model": asdict(m)
        | {
            "formula": "Delta = mu + b_u + b_i + p_u.q_i + N(0, sigma)",
            "b_u": "-er_slope * (ER - er_ref) + N(0, user_bias_sd)",
            "q_i": "artist_effect + decade_effect + residual",
        },
        "dirt_rates": asdict(rates),
        "dirt_counts": {k: int(_has(bits, k).sum()) for k in DIRT_KINDS},  # rows per kind
        "dirty_influencers": dirty_inf,
        "expected": {
            "clean_rows": int((rule < 0).sum()),
            "quarantined_rows": int((rule >= 0).sum()),
            "quarantined_by_rule": by_rule,
        },
        "censored_rows": int(rows["censored"].sum()),  # written rows, as in rows.parquet
        "delta_stats": {
            "min": float(delta.min()),
            "max": float(delta.max()),
            "mean": float(delta.mean()),
            "sd": float(delta.std()),
            "p01": float(np.quantile(delta, 0.01)),
            "p99": float(np.quantile(delta, 0.99)),
            "share_gt_4": float((delta > 4).mean()),
        },
        "top_song_user_counts": np.sort(users_per_song)[::-1][:10].tolist(),
    }


# ---------------------------------------------------------------------------------------------
# Rendering cells (shared by xlsx and parquet)
# ---------------------------------------------------------------------------------------------
@dataclass
class _Col:
    text: pa.Array  # string form of every cell, null = empty cell
    as_text: np.ndarray | None = None  # xlsx: write the string instead of the number
    value: np.ndarray | None = None  # numeric value (numeric columns only)


def _thousands(x: np.ndarray) -> np.ndarray:
    """157186 -> "157,186" (x >= 1000): zero-padded groups, then strip the leading zeros."""
    out = np.strings.zfill((x % 1000).astype(S), 3)
    rest = x // 1000
    while (more := rest > 0).any():
        out[more] = _cat(np.strings.zfill((rest[more] % 1000).astype(S), 3), ",", out[more])
        rest = rest // 1000
    return np.strings.lstrip(out, "0,")


def _percent(er: np.ndarray) -> np.ndarray:
    cents = np.rint(er * 100).astype(np.int64)
    return _cat((cents // 100).astype(S), ".", np.strings.zfill((cents % 100).astype(S), 2), "%")


def _abbrev(x: np.ndarray) -> np.ndarray:
    """Instagram-style counts, truncated (not rounded) so tiers never change: 79,960 -> 79.9k."""
    tenth_k, tenth_m = x // 100, x // 100_000
    small = _cat((tenth_k // 10).astype(S), ".", (tenth_k % 10).astype(S), "k")
    mid = _cat((x // 1000).astype(S), "k")
    big = _cat((tenth_m // 10).astype(S), ".", (tenth_m % 10).astype(S), "m")
    out = np.where(x < 100_000, small, np.where(x < 1_000_000, mid, big))
    return np.strings.replace(out, ".0", "")  # "12.0k" -> "12k"


def _time_text(days: np.ndarray) -> np.ndarray:
    """The report's scrape form: f"{x}d" if x < 7 else f"{round(x/7)}w"."""
    return np.where(
        days < 7, _cat(days.astype(S), "d"), _cat(np.rint(days / 7).astype(np.int64).astype(S), "w")
    )


def _pad(s: np.ndarray, style: np.ndarray) -> np.ndarray:
    return np.where(
        style == 0, _cat(" ", s, " "), np.where(style == 1, _cat(s, "  "), _cat("  ", s))
    )


def _numeric_col(
    value: np.ndarray,
    col: int,
    rows: dict[str, np.ndarray],
    formats: Sequence[tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]] = (),
) -> _Col:
    """Canonical number text, then formatting dirt, padding, junk, and blanks / null tokens."""
    text = pc.cast(pa.array(value), pa.string())
    pad = rows["pad_col"] == col
    junk = rows["junk_col"] == col
    touched = pad | junk
    for mask, _ in formats:
        touched = touched | mask
    if touched.any():
        ix = np.flatnonzero(touched)
        s = np.array(text.take(pa.array(ix)).to_pylist(), dtype=S)
        for mask, fmt in formats:
            sel = mask[ix]
            if sel.any():
                s[sel] = fmt(value[ix[sel]])
        sel = pad[ix]
        s[sel] = _pad(s[sel], rows["pad_style"][ix[sel]])
        sel = junk[ix]
        s[sel] = JUNK_TOKENS[rows["junk_tok"][ix[sel]]]
        text = pc.replace_with_mask(text, pa.array(touched), pa.array(s))
    blank = _cell_blank(rows, col)
    token = blank & (rows["null_tok"] >= 0)
    if token.any():
        tokens = pa.array(NULL_TOKENS[rows["null_tok"][token]])
        text = pc.replace_with_mask(text, pa.array(token), tokens)
    empty = blank & ~token
    if empty.any():
        text = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text)
    return _Col(text, touched | token, value)


def _take(values: pa.Array, idx: np.ndarray, blank: np.ndarray | None = None) -> _Col:
    """Per-entity strings gathered per row (entity-level blanks are already nulls)."""
    out = values.take(pa.array(idx))
    if blank is not None and blank.any():
        out = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), out)
    return _Col(out)


@dataclass
class _Entities:
    """Influencer/song strings as Arrow arrays, built once and gathered per output chunk."""

    name: pa.Array
    bio: pa.Array
    url: pa.Array
    handle: np.ndarray
    song_id: pa.Array
    title: pa.Array
    release: pa.Array
    artist_name: pa.Array
    url_tokens: np.ndarray

    @classmethod
    def build(cls, planted: Planted, seed: int) -> _Entities:
        inf, songs = planted.inf, planted.songs
        return cls(
            name=pa.array(inf["name"], mask=inf["blank_name"]),
            bio=pa.array(inf["bio"], mask=inf["blank_bio"]),
            url=pa.array(inf["url"]),
            handle=inf["handle"],
            song_id=pa.array(songs["id"]),
            title=pa.array(songs["title"]),
            release=pa.array(songs["release"], mask=songs["blank_release"]),
            artist_name=pa.array(songs["artist_name"]),
            url_tokens=_url_tokens(seed),
        )


def _urls(rows: dict[str, np.ndarray], ents: _Entities) -> pa.Array:
    """Canonical URLs, except the variant rows (upper case, http, no www/slash, ?query)."""
    url = ents.url.take(pa.array(rows["user"]))
    variant = rows["url_var"] > 0
    if variant.any():
        flags, query_ix = rows["url_var"][variant], rows["url_query"][variant]
        handle = ents.handle[rows["user"][variant]]
        upper = (flags & URL_UPPER) > 0
        upper_all = upper & (query_ix % 2 == 0)
        handle = np.where(upper_all, np.strings.upper(handle), handle)
        handle = np.where(upper & ~upper_all, np.strings.capitalize(handle), handle)
        query = np.where((flags & URL_QUERY) > 0, _cat("?", ents.url_tokens[query_ix]), "")
        changed = _cat(
            np.where((flags & URL_HTTP) > 0, "http://", "https://"),
            np.where((flags & URL_NO_WWW) > 0, "instagram.com/", "www.instagram.com/"),
            handle,
            np.where((flags & URL_NO_SLASH) > 0, "", "/"),
            query,
        )
        url = pc.replace_with_mask(url, pa.array(variant), pa.array(changed))
    return url


def _plain_number(value: np.ndarray) -> _Col:
    return _Col(pc.cast(pa.array(value), pa.string()), np.zeros(value.size, bool), value)


def _render(planted: Planted, ix: np.ndarray, ents: _Entities) -> dict[str, _Col]:
    """All 17 columns for the rows at positions ``ix`` (a contiguous slice of the output)."""
    rows = {key: v[ix] for key, v in planted.rows.items()}
    inf, songs = planted.inf, planted.songs
    u, s = rows["user"], rows["song"]
    values = {
        J_FOL: inf["followers"][u],
        J_POSTS: inf["posts"][u],
        J_LIKES: rows["likes"],
        J_COMMENTS: rows["comments"],
    }
    commas = _comma_cells(rows, values)
    return {
        "Song": _take(ents.song_id, s, rows["blank_song"]),
        "use_count": _numeric_col(rows["use_count"], J_USE, rows),
        "Name": _take(ents.name, u),
        "Followers": _numeric_col(
            values[J_FOL], J_FOL, rows, [(rows["abbrev"], _abbrev), (commas[J_FOL], _thousands)]
        ),
        "Posts": _numeric_col(values[J_POSTS], J_POSTS, rows, [(commas[J_POSTS], _thousands)]),
        "Bio": _take(ents.bio, u),
        "URL": _Col(
            pc.if_else(pa.array(rows["blank_url"]), pa.scalar(None, pa.string()), _urls(rows, ents))
        ),
        "ER": _numeric_col(inf["er"][u], J_ER, rows, [(rows["er_pct"], _percent)]),
        "title": _take(ents.title, s),
        "release": _take(ents.release, s),
        "artist_name": _take(ents.artist_name, s),
        "year": _plain_number(songs["year"][s]),
        "Delta": _numeric_col(rows["delta"], J_DELTA, rows),
        "Curr_ER": _plain_number(rows["curr_er"]),
        "Comments": _numeric_col(
            values[J_COMMENTS], J_COMMENTS, rows, [(commas[J_COMMENTS], _thousands)]
        ),
        "Likes": _numeric_col(values[J_LIKES], J_LIKES, rows, [(commas[J_LIKES], _thousands)]),
        "Time": _numeric_col(rows["time"], J_TIME, rows, [(rows["time_text"], _time_text)]),
    }


def _url_tokens(seed: int) -> np.ndarray:
    """Share-link query strings (?igshid=..., ?hl=en) for URL variants."""
    rng = np.random.default_rng([seed, 7])
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
    ids = ["igshid=" + "".join(rng.choice(alphabet, 12)) for _ in range(28)]
    return _s([*ids, "hl=en", "utm_source=ig_profile_share", "hl=hi", "igsh=MWQ1ZGUxMzBkMA=="])


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------
def _xlsx_cells(col: _Col) -> list[Any]:
    texts = col.text.to_pylist()
    if col.value is None:
        return texts
    cells = col.value.tolist()
    for i in np.flatnonzero(col.as_text):
        cells[i] = texts[i]
    for i in np.flatnonzero(col.text.is_null().to_numpy(zero_copy_only=False)):
        cells[i] = None
    return cells


def _write_xlsx(path: Path, cells: list[list[Any]]) -> None:
    """One sheet: header row, then one row per record (``cells`` is column-major)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(list(COLUMNS))
    # openpyxl would store "#VALUE!" as an error cell (read back as blank) and "=..." as a
    # formula; junk must stay visible text, so force those cells to be strings.
    for column in cells:
        for i, v in enumerate(column):
            if isinstance(v, str) and (v in ERROR_CODES or v.startswith("=")):
                column[i] = WriteOnlyCell(ws, v)
                column[i].data_type = "s"
    for row in zip(*cells, strict=True):
        ws.append(row)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    _normalise_zip(tmp, path)


def _write_xlsx_files(jobs: list[tuple[Path, list[list[Any]]]]) -> None:
    """openpyxl's pure-Python XML writer dominates the runtime: one process per workbook.

    Uses fork (children only run openpyxl/zipfile on plain lists); spawn/forkserver would
    re-import the caller's __main__, which breaks unguarded scripts, so without fork (or with
    one CPU) the workbooks are written sequentially instead.
    """
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for path, cells in jobs:
            _write_xlsx(path, cells)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in [pool.submit(_write_xlsx, path, cells) for path, cells in jobs]:
            future.result()


def _normalise_zip(src: Path, dst: Path) -> None:
    """Re-write the xlsx with fixed timestamps and entry order so equal seeds give equal bytes."""
    with zipfile.ZipFile(src) as zin:
        entries = [(info.filename, zin.read(info)) for info in zin.infolist()]
    stamp = FIXED_XLSX_TIME.encode()
    with zipfile.ZipFile(dst, "w") as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data
                )
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type, info.create_system, info.external_attr = (
                zipfile.ZIP_DEFLATED,
                3,
                0o644 << 16,
            )
            zout.writestr(info, data, compresslevel=6)
    src.unlink()


def _rule_names(codes: np.ndarray) -> pa.Array:
    """REJECT_RULES index (-1 = none) -> rule name or null."""
    names = pa.array([*REJECT_RULES, None], pa.string())
    return names.take(pa.array(np.where(codes < 0, len(REJECT_RULES), codes)))


def _write_truth_rows(
    writer: pq.ParquetWriter, planted: Planted, ix: np.ndarray, file_name: str, first_row: int
) -> None:
    keys = _words("user song bits delta delta_expected censored blank_url blank_song")
    rows = {key: planted.rows[key][ix] for key in keys}
    bits = rows["bits"]
    uniq, inverse = np.unique(bits, return_inverse=True)
    dirt = [",".join(k for k in DIRT_KINDS if b & BIT[k]) for b in uniq.tolist()]
    rule = expected_rules(uniq)
    table = pa.table(
        {
            "source_file": pa.array(np.full(ix.size, file_name, dtype=S)),
            "source_row": pa.array(np.arange(first_row, first_row + ix.size, dtype=np.int64)),
            "influencer_id": pa.array(planted.inf["url"][rows["user"]], mask=rows["blank_url"]),
            "song_id": pa.array(planted.songs["id"][rows["song"]], mask=rows["blank_song"]),
            "delta": pa.array(rows["delta"], mask=_has(bits, "blank_delta")),
            "delta_expected": pa.array(rows["delta_expected"]),
            "censored": pa.array(rows["censored"]),
            "dirt": pa.array(dirt, pa.string()).take(pa.array(inverse)),
            "expected_rule": _rule_names(rule).take(pa.array(inverse)),
        }
    )
    writer.write_table(table)


TRUTH_ROWS_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("influencer_id", pa.string()),
        ("song_id", pa.string()),
        ("delta", pa.float64()),
        ("delta_expected", pa.float64()),
        ("censored", pa.bool_()),
        ("dirt", pa.string()),
        ("expected_rule", pa.string()),
    ]
)


def _write_outputs(
    planted: Planted, raw_dir: Path, truth_dir: Path, fmt: str, seed: int, part_rows: int
) -> list[dict[str, Any]]:
    n = planted.rows["user"].size
    if fmt == "xlsx":
        n_files = max(2, math.ceil(n / XLSX_MAX_ROWS))
        chunks = np.array_split(np.arange(n), n_files)
        names, first_row = [f"data{i + 1}.xlsx" for i in range(n_files)], 2  # header is row 1
    else:
        chunks = [np.arange(a, min(a + part_rows, n)) for a in range(0, n, part_rows)]
        names, first_row = [f"part-{i + 1:05d}.parquet" for i in range(len(chunks))], 1
    ents = _Entities.build(planted, seed)
    files, xlsx_jobs = [], []
    with pq.ParquetWriter(truth_dir / "rows.parquet", TRUTH_ROWS_SCHEMA) as truth:
        for name, ix in zip(names, chunks, strict=True):
            cols = _render(planted, ix, ents)
            if fmt == "xlsx":
                xlsx_jobs.append((raw_dir / name, [_xlsx_cells(cols[c]) for c in COLUMNS]))
            else:
                table = pa.table({c: cols[c].text for c in COLUMNS})
                pq.write_table(table, raw_dir / name, compression="zstd")
            _write_truth_rows(truth, planted, ix, name, first_row)
            files.append({"file": name, "rows": int(ix.size)})
    if xlsx_jobs:
        _write_xlsx_files(xlsx_jobs)
    return files


def _write_entities(planted: Planted, truth_dir: Path) -> None:
    inf, songs = planted.inf, planted.songs
    factors = {f"factor_{j}": inf["factors"][:, j] for j in range(inf["factors"].shape[1])}
    pq.write_table(
        pa.table(
            {
                "influencer_id": pa.array(inf["url"]),
                "handle": pa.array(inf["handle"]),
                "name": pa.array(inf["name"], mask=inf["blank_name"]),
                "tier": pa.array(np.array(TIERS, dtype=S)[inf["tier"]]),
                "followers": inf["followers"],
                "posts": inf["posts"],
                "er": inf["er"],
                "bias": inf["bias"],
                **factors,
                "dirty_rule": _rule_names(inf["dirty_rule"]),
            }
        ),
        truth_dir / "influencers.parquet",
    )
    factors = {f"factor_{j}": songs["factors"][:, j] for j in range(songs["factors"].shape[1])}
    pq.write_table(
        pa.table(
            {
                "song_id": pa.array(songs["id"]),
                "title": pa.array(songs["title"]),
                "release": pa.array(songs["release"], mask=songs["blank_release"]),
                "artist_id": songs["artist"],
                "artist_name": pa.array(songs["artist_name"]),
                "year": songs["year"],
                "popularity": songs["popularity"],
                "bias": songs["bias"],
                **factors,
            }
        ),
        truth_dir / "songs.parquet",
    )


def _prepare_dirs(out_dir: Path) -> tuple[Path, Path]:
    """Create raw/ and truth/ and drop stale generated files so no old part is read back."""
    raw_dir, truth_dir = out_dir / "raw", out_dir / "truth"
    for d in (raw_dir, truth_dir):
        d.mkdir(parents=True, exist_ok=True)
    for pattern in ("data*.xlsx", "part-*.parquet", "*.tmp"):
        for stale in raw_dir.glob(pattern):
            stale.unlink()
    probe = truth_dir / ".write_probe"
    probe.write_text("")  # fail fast on an unwritable folder, before minutes of work
    probe.unlink()
    return raw_dir, truth_dir


def generate(
    out_dir: Path,
    *,
    seed: int = 42,
    n_influencers: int = 10_000,
    n_celebrities: int = 2_000,
    n_songs: int = 10_000,
    n_rows: int | None = None,
    fmt: str = "xlsx",
    rates: DirtRates | None = None,
    model: ModelParams | None = None,
    part_rows: int = PART_ROWS,
) -> dict[str, Any]:
    """Write ``<out_dir>/raw`` (source files) and ``<out_dir>/truth``; return params.json's dict.

    ``n_rows`` is the total number of written source rows including the duplicate copies
    (default: ~8.3 per influencer, i.e. 100,000 for the report-sized default).
    """
    if fmt not in ("xlsx", "parquet"):
        raise ValueError(f"unknown format {fmt!r} (xlsx or parquet)")
    if part_rows < 1:
        raise ValueError("part_rows must be positive")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    _validate(n_influencers, n_celebrities, n_songs, n_rows, rates or DirtRates())
    raw_dir, truth_dir = _prepare_dirs(Path(out_dir))  # only now delete stale outputs
    planted = simulate(
        seed=seed,
        n_influencers=n_influencers,
        n_celebrities=n_celebrities,
        n_songs=n_songs,
        n_rows=n_rows,
        rates=rates,
        model=model,
    )
    files = _write_outputs(planted, raw_dir, truth_dir, fmt, seed, part_rows)
    _write_entities(planted, truth_dir)
    params = planted.params | {"format": fmt, "files": files}
    (truth_dir / "params.json").write_text(json.dumps(params, indent=2, ensure_ascii=False) + "\n")
    return params


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def _summary(params: dict[str, Any], out: Path, seconds: float) -> str:
    sz, exp, d = params["sizes"], params["expected"], params["delta_stats"]
    rules = ", ".join(f"{r} {c:,}" for r, c in exp["quarantined_by_rule"].items())
    top = "/".join(str(c) for c in params["top_song_user_counts"][:3])
    return (
        f"Wrote {sz['n_rows']:,} source rows ({sz['n_duplicate_rows']:,} duplicate copies) in "
        f"{len(params['files'])} {params['format']} file(s) to {out / 'raw'} for "
        f"{sz['n_influencers_total']:,} influencers ({sz['tiers']['celebrity']:,} celebrities, "
        f"{sz['tiers']['nano']:,} nano) and {sz['n_songs']:,} songs in {seconds:.1f} s; truth in "
        f"{out / 'truth'}. Expected after cleaning: {exp['clean_rows']:,} clean and "
        f"{exp['quarantined_rows']:,} quarantined rows ({rules}). Delta mean {d['mean']:.2f}, "
        f"sd {d['sd']:.2f}, range [{d['min']:.2f}, {d['max']:.2f}], {d['share_gt_4']:.2%} above "
        f"4; {params['censored_rows']:,} rows censored at Curr_ER 0; top songs used by {top} "
        f"influencers; artist+decade explain "
        f"{params['explained_variance_share']['realised']:.0%} of song-factor variance."
    )


def _count(text: str) -> int:
    """A non-negative whole number; "100_000" and "100,000" are accepted."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="generate_data",
        description="Generate ReelRec synthetic source data (raw/) and its planted truth (truth/).",
    )
    p.add_argument("--out", type=Path, default=Path("data"), help="output folder (default: data)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--influencers", type=_count, help="nano/micro influencers (10,000)")
    p.add_argument("--celebrities", type=_count, help="celebrities >= 80k followers (2,000)")
    p.add_argument("--songs", type=_count, help="songs (10,000)")
    p.add_argument("--rows", type=_count, help="written rows incl. duplicates (~8.3/infl.)")
    p.add_argument(
        "--scale",
        type=_count,
        metavar="ROWS",
        help="parquet output of ROWS rows with matching sizes (1e5: 12k infl./10k songs; "
        "1e6: 120k/50k; 1e7: 1M/100k)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage/help
        return int(exc.code or 0)
    inf, celeb, songs, rows, fmt = 10_000, 2_000, 10_000, args.rows, "xlsx"
    if args.scale is not None:
        if args.rows is not None and args.rows != args.scale:
            print("error: give either --scale or --rows, not different values", file=sys.stderr)
            return 2
        inf, celeb, songs = scale_sizes(args.scale)
        rows, fmt = args.scale, "parquet"
    inf = args.influencers if args.influencers is not None else inf
    celeb = args.celebrities if args.celebrities is not None else celeb
    songs = args.songs if args.songs is not None else songs
    start = time.perf_counter()
    try:
        params = generate(
            args.out,
            seed=args.seed,
            n_influencers=inf,
            n_celebrities=celeb,
            n_songs=songs,
            n_rows=rows,
            fmt=fmt,
        )
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_summary(params, args.out, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
