"""Answers from a built warehouse for the CLI: an influencer's picks, a song's neighbours.

Every user-typed value reaches SQL as a bound parameter, never as SQL text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from models_py.errors import ReelRecError
from models_py.warehouse import file as warehouse


def handle_of(text: str) -> str:
    """The handle in a profile URL or typed handle: '@Desi_Trends', '.../desi_trends/?hl=en'."""
    cleaned = text.strip().split("?")[0].split("#")[0].rstrip("/").lower()
    return cleaned.rsplit("/", 1)[-1].lstrip("@")


def _closest(con: duckdb.DuckDBPyConnection, sql: str, value: str) -> list[str]:
    return [r[0] for r in con.execute(sql, [value]).fetchall()]


def find_influencer(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str, str]:
    """(influencer_id, handle, name) for a URL or handle; unknown → error with close matches."""
    handle = handle_of(text)
    rows = con.execute(
        "select influencer_id, handle, influencer_name from main.influencers where handle = ?",
        [handle],
    ).fetchall()
    if rows:
        return rows[0]
    close = _closest(
        con,
        "select handle from main.influencers where handle is not null "
        "order by jaro_winkler_similarity(handle, ?) desc, handle limit 5",
        handle,
    )
    raise ReelRecError(f"no influencer '{handle}' in the warehouse; closest: {', '.join(close)}")


def find_song(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str, str]:
    """(song_id, title, artist) for a song id or title (the most used song of that title)."""
    rows = con.execute(
        "select song_id, title, artist_name from main.songs "
        "where song_id = upper(trim(?)) or lower(title) = lower(trim(?)) "
        "order by song_id = upper(trim(?)) desc, user_count desc, song_id limit 1",
        [text, text, text],
    ).fetchall()
    if rows:
        return rows[0]
    close = _closest(
        con,
        "select title || ' (' || song_id || ')' from main.songs where title is not null "
        "order by jaro_winkler_similarity(lower(title), lower(?)) desc, user_count desc limit 5",
        text,
    )
    raise ReelRecError(f"no song '{text}' in the warehouse; closest: {'; '.join(close)}")


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise ReelRecError(f"no warehouse at {path}; build it with `make run` or `reelrec run`")
    return duckdb.connect(str(path), read_only=True)


def recommendations(
    path: Path, influencer: str, method: str | None, n: int
) -> tuple[tuple[str, str, str], list[tuple]]:
    with _open(path) as con:
        found = find_influencer(con, influencer)
        # The influencer's own rows: the view reads only those (not every list).
        methods = [
            r[0]
            for r in con.execute(
                "select distinct method from main.recommendations where influencer_id = ?",
                [found[0]],
            ).fetchall()
        ]
        if method is not None and method not in methods:
            raise ReelRecError(f"no method '{method}'; methods: {', '.join(sorted(methods))}")
        rows = con.execute(
            "select method, rank, title, artist_name, score, reason from main.recommendations "
            "where influencer_id = ? and (? is null or method = ?) and rank <= ? "
            "order by method, rank",
            [found[0], method, method, n],
        ).fetchall()
    return found, rows


def similar_songs(
    path: Path, song: str, n: int, by: str = "item_knn"
) -> tuple[tuple[str, str, str], list[tuple]]:
    """A song's nearest songs by `by`: item_knn (who used them) or content (metadata)."""
    with _open(path) as con:
        found = find_song(con, song)
        rows = con.execute(
            "select neighbour_rank, neighbour_title, neighbour_artist_name, similarity "
            "from main.song_neighbours where song_id = ? and method = ? and neighbour_rank <= ? "
            "order by neighbour_rank",
            [found[0], by, n],
        ).fetchall()
    return found, rows


def tier_of(con: duckdb.DuckDBPyConnection, followers: int) -> str:
    """The follower tier at the cut-offs this warehouse was built with (run_settings), so a
    run with `--var celebrity_followers=…` places new influencers as it placed known ones."""
    cutoffs = dict(
        con.execute(
            "select setting, cast(setting_value as bigint) from main.run_settings "
            "where setting in ('tier_nano_max_followers', 'celebrity_followers')"
        ).fetchall()
    )
    if followers < cutoffs["tier_nano_max_followers"]:
        return "nano"
    return "micro" if followers < cutoffs["celebrity_followers"] else "celebrity"


def new_influencer_recommendations(
    path: Path, handle: str, bio: str, followers: int, n: int
) -> tuple[str, int, float, list[tuple]]:
    """Picks for an influencer with no reels yet, from influencers of the same tier with a
    similar bio (tier popularity when none is similar). Returns (tier, number of bio
    neighbours who informed it, the tuned prior strength, rows of rank, title, artist,
    score, why)."""
    import numpy as np
    import scipy.sparse as sp

    from models_py.recommenders.new_influencer import SimilarInfluencers

    if followers < 0:
        raise ReelRecError(f"--followers must be >= 0, got {followers}")
    if n < 1:
        raise ReelRecError(f"-n must be at least 1, got {n}")
    with _open(path) as con:
        tier = tier_of(con, followers)
        name = handle_of(handle)
        known = con.execute(
            "select count(*) from main.influencers where handle = ?", [name]
        ).fetchall()[0][0]
        if known:
            raise ReelRecError(
                f"'{name}' is already in the warehouse: use `reelrec recommend {name}`"
            )
        influencers = con.execute(
            "select influencer_id, coalesce(bio, '') as bio, tier from main.influencers "
            "order by influencer_id"
        ).df()
        songs = con.execute(
            "select song_id, title, artist_name from main.songs order by song_id"
        ).df()
        reels = con.execute("select influencer_id, song_id from main.reels").df()
    if reels.empty:
        raise ReelRecError(f"the warehouse at {path} holds no reels to learn from")
    user = np.searchsorted(influencers["influencer_id"].to_numpy(), reels["influencer_id"])
    item = np.searchsorted(songs["song_id"].to_numpy(), reels["song_id"])
    used = sp.csr_matrix((np.ones(len(reels)), (user, item)), shape=(len(influencers), len(songs)))
    model = SimilarInfluencers().fit(
        used, influencers["bio"].to_numpy(object), influencers["tier"].to_numpy(object)
    )
    # Arrays are sized by n: never past the catalogue, whatever was asked.
    ids, scores, n_neighbours = model.recommend(
        np.array([bio], dtype=object), np.array([tier], dtype=object), min(n, len(songs))
    )
    neighbours = int(n_neighbours[0])
    prior = model.prior(tier)
    rows = []
    for rank, (i, score) in enumerate(zip(ids[0], scores[0], strict=True), start=1):
        if i < 0:
            break
        why = f"used by {prior[i]:.0%} of {tier} influencers"
        rows.append((rank, songs["title"][i], songs["artist_name"][i], float(score), why))
    return tier, neighbours, float(model.prior_strength_), rows


def example_influencer(path: Path) -> str | None:
    """A handle worth showing after a run: the micro influencer with most songs used."""
    with warehouse.connect(path, read_only=True) as con:
        rows = con.execute(
            "select handle from main.influencers where handle is not null "
            "order by tier = 'micro' desc, songs_used desc, handle limit 1"
        ).fetchall()
    return rows[0][0] if rows else None
