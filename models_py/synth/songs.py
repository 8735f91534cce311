"""Songs: MSD-style ids, titles, albums, artists with an era, popularity and planted factors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from models_py.synth import vocabulary as words
from models_py.synth.settings import ModelParams
from models_py.synth.text import TEXT, concat, make_unique, pick, random_styles, text_array

SONGS_PER_ARTIST = 4  # on average; catalogue sizes are Zipf-distributed
ALBUMS_PER_ARTIST = 3  # at most
FIRST_YEAR, LAST_YEAR = 1950, 2010
N_DECADES = 6  # 1950s to 2000s; 2010 counts as the 2000s


def _picker(rng: np.random.Generator) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """word(vocabulary, positions): one random word of ``vocabulary`` per position."""
    return lambda vocabulary, positions: pick(rng, vocabulary, positions.size)


def msd_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted unique MSD-style ids: SO + 5 letters + 12A + 2 infix + 6 hex (SOAKIMP12A8C130995)."""
    letters = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
    hex_digits = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
    infixes = np.frombuffer(b"8CB08EF0AB81BA", dtype=np.uint8).reshape(-1, 2)
    ids = np.empty(0, dtype="S18")
    while ids.size < n:
        m = 2 * (n - ids.size) + 8
        buf = np.empty((m, 18), dtype=np.uint8)
        buf[:, 0:2] = np.frombuffer(b"SO", dtype=np.uint8)
        buf[:, 2:7] = letters[rng.integers(0, 26, (m, 5))]
        buf[:, 7:10] = np.frombuffer(b"12A", dtype=np.uint8)
        buf[:, 10:12] = infixes[rng.integers(0, len(infixes), m)]
        buf[:, 12:18] = hex_digits[rng.integers(0, 16, (m, 6))]
        ids = np.unique(np.concatenate([ids, buf.view("S18").ravel()]))
    ids = np.sort(ids[rng.choice(ids.size, size=n, replace=False)])
    return ids.astype("U18").astype(TEXT)


def artist_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct names: people, bands, foreign words, DJs."""

    word = _picker(rng)

    def person(i: np.ndarray) -> np.ndarray:
        return concat(word(words.ARTIST_FIRST_NAMES, i), " ", word(words.ARTIST_LAST_NAMES, i))

    def band(i: np.ndarray) -> np.ndarray:
        noun = concat(word(words.TITLE_NOUNS, i), "s")
        return concat("The ", word(words.TITLE_ADJECTIVES, i), " ", noun)

    def dj(i: np.ndarray) -> np.ndarray:
        return concat(word(text_array(["DJ ", "MC "]), i), word(words.TITLE_NOUNS, i))

    names = random_styles(
        rng,
        n,
        [0.45, 0.2, 0.1, 0.05, 0.05, 0.15],
        [
            person,
            band,
            lambda i: word(words.FOREIGN_WORDS, i),
            dj,
            lambda i: concat(person(i), " & The ", word(words.TITLE_NOUNS, i), "s"),
            lambda i: concat(word(words.FOREIGN_WORDS, i), " ", word(words.FOREIGN_WORDS, i)),
        ],
    )
    # Distinct artists need distinct names, or content-based models would merge them.
    suffixes = text_array(
        [" Trio", " Band", " Collective", " Quartet", " Project", " & Friends", " Jr."]
    )
    return make_unique(rng, names, suffixes)


def titles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Titles like "Thicker Than Water" or "The Cove"; a tenth get a suffix like " (Live)"."""

    word = _picker(rng)
    nouns, foreign = words.TITLE_NOUNS, words.FOREIGN_WORDS
    out = random_styles(
        rng,
        n,
        [0.2, 0.15, 0.15, 0.15, 0.1, 0.15, 0.1],
        [
            lambda i: concat(word(words.TITLE_COMPARATIVES, i), " Than ", word(nouns, i)),
            lambda i: concat("The ", word(nouns, i)),
            lambda i: concat(word(words.TITLE_ADJECTIVES, i), " ", word(nouns, i)),
            lambda i: concat(
                word(words.TITLE_VERBS, i),
                " ",
                word(words.TITLE_PREPOSITIONS, i),
                " ",
                word(nouns, i),
            ),
            lambda i: concat(word(nouns, i), " Of ", word(nouns, i)),
            lambda i: word(foreign, i),
            lambda i: concat(word(foreign, i), " ", word(foreign, i)),
        ],
    )
    suffixed = rng.random(n) < 0.1
    out[suffixed] = concat(out[suffixed], pick(rng, words.TITLE_SUFFIXES, int(suffixed.sum())))
    return out


def album_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Release names like "Greatest Hits" or "Live At Pune"."""
    word = _picker(rng)
    return random_styles(
        rng,
        n,
        [0.35, 0.15, 0.15, 0.15, 0.1, 0.1],
        [
            lambda i: concat(
                word(words.TITLE_COMPARATIVES, i), " Than ", word(words.TITLE_NOUNS, i)
            ),
            lambda i: concat(word(words.TITLE_ADJECTIVES, i), " ", word(words.TITLE_NOUNS, i)),
            lambda i: text_array(["Greatest Hits"] * i.size),
            lambda i: concat("Live At ", word(words.CITIES, i)),
            lambda i: concat("The ", word(words.TITLE_ADJECTIVES, i), " Sessions"),
            lambda i: word(words.FOREIGN_WORDS, i),
        ],
    )


def _child_stream(rng: np.random.Generator, index: int) -> np.random.Generator:
    """The stage's ``index``-th child stream, whatever was drawn or spawned before: extra
    draws there never shift the stage's main stream (ids, titles, factors)."""
    seq = rng.bit_generator.seed_seq
    return np.random.default_rng(
        np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, index))
    )


def _popularity_rank(
    rng: np.random.Generator, artist: np.ndarray, n_artists: int, model: ModelParams
) -> np.ndarray:
    """1-based popularity rank of each song, partly shared by the songs of one artist."""
    n = artist.size
    rank = rng.permutation(n) + 1
    if model.artist_popularity_share > 0:
        # A child stream, so every later draw of this stage (ids, titles) stays as it was.
        child = _child_stream(rng, 0)
        share = model.artist_popularity_share
        latent = math.sqrt(share) * child.normal(size=n_artists)[artist] + math.sqrt(
            1 - share
        ) * child.normal(size=n)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(-latent, kind="stable")] = np.arange(1, n + 1)
    return rank


def song_catalogue(
    rng: np.random.Generator, n: int, model: ModelParams, blank_release: float
) -> dict[str, Any]:
    """Every song's metadata and planted truth: bias, factors (artist + decade + residual),
    popularity, and whether its release name is left blank."""
    n_artists = max(1, n // SONGS_PER_ARTIST)
    # Zipf-sized catalogues: every artist has at least one song.
    weights = 1.0 / np.arange(1, n_artists + 1) ** 1.1
    sizes = 1 + rng.multinomial(n - n_artists, weights / weights.sum())
    artist = rng.permutation(np.repeat(np.arange(n_artists, dtype=np.int32), sizes))
    # Artists have an era; songs scatter around it; MSD leaves ~45% of years unknown (0).
    era = FIRST_YEAR + (LAST_YEAR - FIRST_YEAR) * rng.beta(2.2, 1.3, n_artists)
    year = np.rint(era[artist] + rng.normal(0, 5, n))
    year = np.clip(year, FIRST_YEAR, LAST_YEAR).astype(np.int64)
    year[rng.random(n) < model.unknown_year_share] = 0
    decade = np.where(year > 0, (np.minimum(year, LAST_YEAR - 1) - FIRST_YEAR) // 10 + 1, 0)

    k, sd = model.k, model.song_factor_sd
    residual_share = 1 - model.artist_share - model.decade_share
    # Artists come in genres: part of an artist's effect is its genre's (the taste usage
    # follows, see usage.py); the draws of the main stream stay as they were.
    own_sd = sd * math.sqrt(model.artist_share * (1 - model.genre_share))
    artist_effect = rng.normal(0, own_sd, (n_artists, k))
    genre_rng = _child_stream(rng, 1)
    artist_genre = genre_rng.integers(0, model.n_genres, n_artists)
    genre_sd = sd * math.sqrt(model.artist_share * model.genre_share)
    genre_effect = genre_rng.normal(0, genre_sd, (model.n_genres, k))
    artist_effect += genre_effect[artist_genre]
    decade_effect = rng.normal(0, sd * math.sqrt(model.decade_share), (N_DECADES + 1, k))
    decade_effect[0] = 0.0  # decade 0 = unknown year: carries no information
    explained = artist_effect[artist] + decade_effect[decade]
    residual = rng.normal(0, sd * math.sqrt(residual_share), (n, k))
    factors = explained + residual
    realised = 1 - residual.var(axis=0).sum() / factors.var(axis=0).sum()
    known = 1 - model.unknown_year_share
    planted = (model.artist_share + model.decade_share * known) / (
        1 - model.decade_share * (1 - known)
    )

    bias_sd, artist_bias_share = model.song_bias_sd, model.song_bias_artist_share
    artist_bias = rng.normal(0, bias_sd * math.sqrt(artist_bias_share), n_artists)
    bias = artist_bias[artist] + rng.normal(0, bias_sd * math.sqrt(1 - artist_bias_share), n)
    rank = _popularity_rank(rng, artist, n_artists, model)
    popularity = (rank + model.zipf_offset) ** -model.zipf_exponent
    popularity /= popularity.sum()

    albums = album_names(rng, ALBUMS_PER_ARTIST * n_artists)
    release = albums[ALBUMS_PER_ARTIST * artist + rng.integers(0, ALBUMS_PER_ARTIST, n)]
    return {
        "id": msd_ids(rng, n),
        "title": titles(rng, n),
        "release": release,
        "artist": artist,
        "artist_name": artist_names(rng, n_artists)[artist],
        "year": year,
        "popularity": popularity,
        "bias": bias,
        "factors": factors,
        "genre": artist_genre[artist],
        "genre_factors": genre_effect,
        "blank_release": rng.random(n) < blank_release,
        "explained_share_planted": float(planted),
        "explained_share_realised": float(realised),
        "n_artists": n_artists,
    }
