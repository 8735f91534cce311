"""Answers from a built warehouse for the CLI: an influencer's picks, a song's neighbours.

Every user-typed value reaches SQL as a bound parameter, never as SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from models_py.errors import ReelRecError
from models_py.ingest import values
from models_py.warehouse import file as warehouse


def _closest(con: duckdb.DuckDBPyConnection, sql: str, value: str) -> list[str]:
    return [r[0] for r in con.execute(sql, [value]).fetchall()]


def influencer_key(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str | None]:
    """(influencer_id, handle) of a typed URL or handle, derived as staging derives them from
    the files: "cristiano", "@Cristiano", "instagram.com/cristiano" and the full URL agree."""
    influencer_id, handle = values.influencer_key(text, con)
    if influencer_id is None:
        raise ReelRecError("no influencer given: type a handle (desi_trends) or profile URL")
    return influencer_id, handle


def find_influencer(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str, str]:
    """(influencer_id, handle, name) for a URL or handle; unknown → error with close matches."""
    influencer_id, handle = influencer_key(con, text)
    rows = con.execute(
        "select influencer_id, coalesce(handle, influencer_id), influencer_name "
        "from main.influencers where influencer_id = ?",
        [influencer_id],
    ).fetchall()
    if rows:
        return rows[0]
    wanted = handle or influencer_id
    close = _closest(
        con,
        "select coalesce(handle, influencer_id) as name from main.influencers "
        "order by jaro_winkler_similarity(name, ?) desc, name limit 5",
        wanted,
    )
    raise ReelRecError(f"no influencer '{wanted}' in the warehouse; closest: {', '.join(close)}")


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
    return warehouse.open_read_only(path)


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
            return found, on_demand_rows(con, found[0], method, methods, n)
        # The run's default method first (run_settings.default_method), then by name.
        rows = con.execute(
            "select method, rank, title, artist_name, score, reason from main.recommendations "
            "where influencer_id = ? and (? is null or method = ?) and rank <= ? "
            "order by not is_default, method, rank",
            [found[0], method, method, n],
        ).fetchall()
    return found, rows


def on_demand_rows(
    con: duckdb.DuckDBPyConnection, influencer_id: str, method: str, served: list[str], n: int
) -> list[tuple]:
    """The influencer's list of a method that was not served, computed from its fitted parts
    (scoring.on_demand), in the rows ``recommendations`` gives; unknown method: an error
    naming every method, served or on demand."""
    from models_py.recommenders.parts import NoPartsError
    from models_py.scoring.on_demand import on_demand_list
    from models_py.scoring.parts_store import stored_methods

    kept = stored_methods(con)
    if method not in kept:
        known = ", ".join(sorted(set(served) | set(kept)))
        raise ReelRecError(f"no method '{method}'; methods: {known}")
    try:
        picks = on_demand_list(con, method, influencer_id, n)
    except NoPartsError as error:
        raise ReelRecError(
            f"{method} was not served and {error}; name it in the serve_methods var to serve it"
        ) from error
    songs = {
        song_id: (title, artist)
        for song_id, title, artist in con.execute(
            "select song_id, title, artist_name from main.songs where list_contains(?, song_id)",
            [[s for s in [*picks["song_id"], *picks["because_song_id"]] if s is not None]],
        ).fetchall()
    }
    why = f"computed on demand from {method}'s fitted parts"
    rows = []
    for rank, song_id, score, because in picks.itertuples(index=False):
        title, artist = songs[song_id]
        note = f' — closest to "{songs[because][0]}", which you used' if because else ""
        rows.append((method, int(rank), title, artist, float(score), why + note))
    return rows


def default_method(path: Path) -> tuple[str, str]:
    """The run's default method and why it was chosen, in words."""
    with _open(path) as con:
        chosen = con.execute(
            "select setting_value from main.run_settings where setting = 'default_method'"
        ).fetchone()[0]
        k = con.execute(
            "select setting_value from main.run_settings where setting = 'eval_k'"
        ).fetchone()[0]
        judged = con.execute(
            "select method, validation_map, validation_relevance, "
            "coalesce(validation_map_se, 0) from main.model_runs "
            "where validation_map is not null order by validation_map desc, method"
        ).fetchall()
    return chosen, selection_reason(chosen, judged, k)


def selection_reason(chosen: str, judged: list[tuple[str, float, str, float]], k: str) -> str:
    """'best MAP@k (lifted) on the validation cut of N methods: 0.0104; next: content 0.0059',
    or, when the one-standard-error rule served a simpler method than the best, both."""
    scores = {method: value for method, value, _, _ in judged}
    if chosen not in scores:
        return "no model was fitted, so popularity is served first"
    relevance = next(r for m, _, r, _ in judged if m == chosen)
    best, best_map, _, best_se = judged[0]
    if best != chosen and scores[chosen] < best_map:
        return (
            f"MAP@{k} ({relevance}) on a validation cut of the training reels "
            f"{scores[chosen]:.4f}, "
            f"within one standard error of the best, {best} {best_map:.4f} ± {best_se:.4f}, "
            f"of {len(judged)} methods judged: the simpler of the two is served first"
        )
    others = [(m, v) for m, v, _, _ in judged if m != chosen]
    text = (
        f"best MAP@{k} ({relevance}) on a validation cut of the training reels, "
        f"of {len(judged)} methods judged: {scores[chosen]:.4f}"
    )
    return text + (f"; next: {others[0][0]} {others[0][1]:.4f}" if others else "")


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


@dataclass(frozen=True)
class NewInfluencerPicks:
    handle: str  # as shown: the canonical handle, or the text typed when it is none
    tier: str  # the tier its followers place it in
    basis: str  # what the picks were made from, in words
    rows: list[tuple]  # rank, title, artist, score, why


def _basis(tier: str, peers: str, neighbours: int, prior_strength: float) -> str:
    """The picks' sources as they were used: the tier's, or every tier's when the warehouse
    has no influencer of the tier (SimilarInfluencers.peer_tier)."""
    own = peers == tier
    popularity = f"{tier} popularity" if own else "popularity across all tiers"
    notes = [] if own else [f"the warehouse has no {tier} influencer"]
    if not neighbours:
        notes.append("no known bio shares a word with this one")
        return f"{popularity} ({'; '.join(notes)})"
    one = neighbours == 1
    who = f"{tier} influencer" if own else "influencer"
    who += ("" if one else "s") + ("" if own else " of any tier")
    bios = "a similar bio" if one else "similar bios"
    notes.append(f"bio weight tuned on known influencers: prior strength {prior_strength:g}")
    return f"{popularity} and {neighbours:,} {who} with {bios} ({'; '.join(notes)})"


def new_influencer_recommendations(
    path: Path, handle: str, bio: str, followers: int, n: int
) -> NewInfluencerPicks:
    """Picks for an influencer with no reels yet, from influencers of the same tier with a
    similar bio (tier popularity when none is similar; every tier when the warehouse has
    none of this one)."""
    import numpy as np
    import scipy.sparse as sp

    from models_py.recommenders.new_influencer import SimilarInfluencers

    if followers < 0:
        raise ReelRecError(f"--followers must be >= 0, got {followers}")
    if n < 1:
        raise ReelRecError(f"-n must be at least 1, got {n}")
    with _open(path) as con:
        tier = tier_of(con, followers)
        influencer_id, canonical_handle = influencer_key(con, handle)
        shown = canonical_handle or handle.strip()
        known = con.execute(
            "select count(*) from main.influencers where influencer_id = ?", [influencer_id]
        ).fetchall()[0][0]
        if known:
            raise ReelRecError(
                f"'{shown}' is already in the warehouse: use `reelrec recommend {shown}`"
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
    peers = model.peer_tier(tier)
    prior = model.prior(tier)
    whose = f"{tier} influencers" if peers == tier else "all influencers"
    rows = []
    for rank, (i, score) in enumerate(zip(ids[0], scores[0], strict=True), start=1):
        if i < 0:
            break
        why = f"used by {prior[i]:.0%} of {whose}"
        rows.append((rank, songs["title"][i], songs["artist_name"][i], float(score), why))
    basis = _basis(tier, peers, int(n_neighbours[0]), float(model.prior_strength_))
    return NewInfluencerPicks(shown.lstrip("@"), tier, basis, rows)


def example_influencer(path: Path) -> str | None:
    """A handle worth showing after a run: the micro influencer with most songs used."""
    with warehouse.connect(path, read_only=True) as con:
        rows = con.execute(
            "select handle from main.influencers where handle is not null "
            "order by tier = 'micro' desc, songs_used desc, handle limit 1"
        ).fetchall()
    return rows[0][0] if rows else None
