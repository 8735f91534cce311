"""Rendering the planted rows into the source columns' cells, dirt included (xlsx and parquet)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models_py.synth.dirt import (
    JUNK_TOKENS,
    NULL_TOKENS,
    URL_HTTP,
    URL_NO_SLASH,
    URL_NO_WWW,
    URL_QUERY,
    URL_UPPER,
    NumericColumn,
    blank_cells,
    thousands_sep_cells,
)
from models_py.synth.simulate import Planted
from models_py.synth.text import TEXT, concat, text_array

Formatter = Callable[[np.ndarray], np.ndarray]  # numbers -> their dirty text form


@dataclass
class RenderedColumn:
    text: pa.Array  # string form of every cell, null = empty cell
    as_text: np.ndarray | None = None  # xlsx: write the string instead of the number
    value: np.ndarray | None = None  # numeric value (numeric columns only)


def thousands(x: np.ndarray) -> np.ndarray:
    """157186 -> "157,186" (x >= 1000): zero-padded groups, then strip the leading zeros."""
    out = np.strings.zfill((x % 1000).astype(TEXT), 3)
    rest = x // 1000
    while (more := rest > 0).any():
        group = np.strings.zfill((rest[more] % 1000).astype(TEXT), 3)
        out[more] = concat(group, ",", out[more])
        rest = rest // 1000
    return np.strings.lstrip(out, "0,")


def percent(er: np.ndarray) -> np.ndarray:
    """2.5 -> "2.50%"."""
    cents = np.rint(er * 100).astype(np.int64)
    decimals = np.strings.zfill((cents % 100).astype(TEXT), 2)
    return concat((cents // 100).astype(TEXT), ".", decimals, "%")


def abbreviated(x: np.ndarray) -> np.ndarray:
    """Instagram-style counts, truncated (not rounded) so tiers never change: 79,960 -> 79.9k."""
    tenth_k, tenth_m = x // 100, x // 100_000
    small = concat((tenth_k // 10).astype(TEXT), ".", (tenth_k % 10).astype(TEXT), "k")
    mid = concat((x // 1000).astype(TEXT), "k")
    big = concat((tenth_m // 10).astype(TEXT), ".", (tenth_m % 10).astype(TEXT), "m")
    out = np.where(x < 100_000, small, np.where(x < 1_000_000, mid, big))
    return np.strings.replace(out, ".0", "")  # "12.0k" -> "12k"


def time_text(days: np.ndarray) -> np.ndarray:
    """The report's scrape form: f"{x}d" if x < 7 else f"{round(x/7)}w"."""
    weeks = np.rint(days / 7).astype(np.int64)
    return np.where(days < 7, concat(days.astype(TEXT), "d"), concat(weeks.astype(TEXT), "w"))


def padded(text: np.ndarray, style: np.ndarray) -> np.ndarray:
    both, right, left = concat(" ", text, " "), concat(text, "  "), concat("  ", text)
    return np.where(style == 0, both, np.where(style == 1, right, left))


def numeric_column(
    value: np.ndarray,
    column: NumericColumn,
    rows: dict[str, np.ndarray],
    formats: Sequence[tuple[np.ndarray, Formatter]] = (),
) -> RenderedColumn:
    """Canonical number text, then formatting dirt, padding, junk, and blanks / null tokens."""
    text = pc.cast(pa.array(value), pa.string())
    pad = rows["pad_column"] == column
    junk = rows["junk_column"] == column
    touched = pad | junk
    for mask, _ in formats:
        touched = touched | mask
    if touched.any():
        positions = np.flatnonzero(touched)
        cells = np.array(text.take(pa.array(positions)).to_pylist(), dtype=TEXT)
        for mask, fmt in formats:
            selected = mask[positions]
            if selected.any():
                cells[selected] = fmt(value[positions[selected]])
        selected = pad[positions]
        cells[selected] = padded(cells[selected], rows["pad_style"][positions[selected]])
        selected = junk[positions]
        cells[selected] = JUNK_TOKENS[rows["junk_token"][positions[selected]]]
        text = pc.replace_with_mask(text, pa.array(touched), pa.array(cells))
    blank = blank_cells(rows, column)
    token = blank & (rows["null_token"] >= 0)
    if token.any():
        tokens = pa.array(NULL_TOKENS[rows["null_token"][token]])
        text = pc.replace_with_mask(text, pa.array(token), tokens)
    empty = blank & ~token
    if empty.any():
        text = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text)
    return RenderedColumn(text, touched | token, value)


def plain_number(value: np.ndarray) -> RenderedColumn:
    return RenderedColumn(pc.cast(pa.array(value), pa.string()), np.zeros(value.size, bool), value)


def gathered(
    values: pa.Array, index: np.ndarray, blank: np.ndarray | None = None
) -> RenderedColumn:
    """Per-entity strings gathered per row (entity-level blanks are already nulls)."""
    out = values.take(pa.array(index))
    if blank is not None and blank.any():
        out = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), out)
    return RenderedColumn(out)


def url_query_tokens(seed: int) -> np.ndarray:
    """Share-link query strings (?igshid=..., ?hl=en) for URL variants."""
    rng = np.random.default_rng([seed, 7])
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
    share_ids = ["igshid=" + "".join(rng.choice(alphabet, 12)) for _ in range(28)]
    return text_array(
        [*share_ids, "hl=en", "utm_source=ig_profile_share", "hl=hi", "igsh=MWQ1ZGUxMzBkMA=="]
    )


@dataclass
class EntityText:
    """Influencer/song strings as Arrow arrays, built once and gathered per output chunk."""

    name: pa.Array
    bio: pa.Array
    url: pa.Array
    handle: np.ndarray
    song_id: pa.Array
    title: pa.Array
    release: pa.Array
    artist_name: pa.Array
    url_query_tokens: np.ndarray

    @classmethod
    def build(cls, planted: Planted, seed: int) -> EntityText:
        influencers, songs = planted.inf, planted.songs
        return cls(
            name=pa.array(influencers["name"], mask=influencers["blank_name"]),
            bio=pa.array(influencers["bio"], mask=influencers["blank_bio"]),
            url=pa.array(influencers["url"]),
            handle=influencers["handle"],
            song_id=pa.array(songs["id"]),
            title=pa.array(songs["title"]),
            release=pa.array(songs["release"], mask=songs["blank_release"]),
            artist_name=pa.array(songs["artist_name"]),
            url_query_tokens=url_query_tokens(seed),
        )


def urls(rows: dict[str, np.ndarray], entities: EntityText) -> pa.Array:
    """Canonical URLs, except the variant rows (upper case, http, no www/slash, ?query)."""
    url = entities.url.take(pa.array(rows["user"]))
    variant = rows["url_variant"] > 0
    if variant.any():
        flags, query = rows["url_variant"][variant], rows["url_query"][variant]
        handle = entities.handle[rows["user"][variant]]
        upper = (flags & URL_UPPER) > 0
        upper_all = upper & (query % 2 == 0)
        handle = np.where(upper_all, np.strings.upper(handle), handle)
        handle = np.where(upper & ~upper_all, np.strings.capitalize(handle), handle)
        query_text = concat("?", entities.url_query_tokens[query])
        changed = concat(
            np.where((flags & URL_HTTP) > 0, "http://", "https://"),
            np.where((flags & URL_NO_WWW) > 0, "instagram.com/", "www.instagram.com/"),
            handle,
            np.where((flags & URL_NO_SLASH) > 0, "", "/"),
            np.where((flags & URL_QUERY) > 0, query_text, ""),
        )
        url = pc.replace_with_mask(url, pa.array(variant), pa.array(changed))
    return url


def render(planted: Planted, index: np.ndarray, entities: EntityText) -> dict[str, RenderedColumn]:
    """Every source column for the rows at positions ``index`` (a contiguous slice of the
    output), keyed by column name."""
    rows = {key: v[index] for key, v in planted.rows.items()}
    influencers, songs = planted.inf, planted.songs
    user, song = rows["user"], rows["song"]
    values = {
        NumericColumn.FOLLOWERS: influencers["followers"][user],
        NumericColumn.POSTS: influencers["posts"][user],
        NumericColumn.LIKES: rows["likes"],
        NumericColumn.COMMENTS: rows["comments"],
    }
    separated = thousands_sep_cells(rows, values)

    def count(column: NumericColumn) -> RenderedColumn:
        """Followers, Posts, Likes, Comments: thousands separators where flagged."""
        formats = [(separated[column], thousands)]
        if column == NumericColumn.FOLLOWERS:
            formats.insert(0, (rows["followers_abbrev"], abbreviated))
        return numeric_column(values[column], column, rows, formats)

    no_url = pa.array(rows["blank_url"])
    return {
        "Song": gathered(entities.song_id, song, rows["blank_song"]),
        "use_count": numeric_column(rows["use_count"], NumericColumn.USE_COUNT, rows),
        "Name": gathered(entities.name, user),
        "Followers": count(NumericColumn.FOLLOWERS),
        "Posts": count(NumericColumn.POSTS),
        "Bio": gathered(entities.bio, user),
        "URL": RenderedColumn(
            pc.if_else(no_url, pa.scalar(None, pa.string()), urls(rows, entities))
        ),
        "ER": numeric_column(
            influencers["er"][user], NumericColumn.ER, rows, [(rows["er_percent"], percent)]
        ),
        "title": gathered(entities.title, song),
        "release": gathered(entities.release, song),
        "artist_name": gathered(entities.artist_name, song),
        "year": plain_number(songs["year"][song]),
        "Delta": numeric_column(rows["delta"], NumericColumn.DELTA, rows),
        "Curr_ER": plain_number(rows["curr_er"]),
        "Comments": count(NumericColumn.COMMENTS),
        "Likes": count(NumericColumn.LIKES),
        "Time": numeric_column(
            rows["time"], NumericColumn.TIME, rows, [(rows["time_text"], time_text)]
        ),
    }
