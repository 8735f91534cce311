"""One influencer's list from a method's fitted parts in the warehouse, as serving it would
have been: the model rebuilt for them alone (recommenders.parts), their reels read as the
scoring stage reads them, the same exclusions, clipping and explanations."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from models_py.recommenders.parts import NO_PARTS, NoPartsError, rebuild
from models_py.scoring.codes import CODES
from models_py.scoring.data import MIN_TRAINING_RATINGS
from models_py.scoring.frames import recommendation_frame
from models_py.scoring.parts_store import read_parts


def is_implicit(con: duckdb.DuckDBPyConnection) -> bool:
    """read_scoring_data's rule: too few training reels with a Delta, so every reel is a 1."""
    rated = con.execute(
        "select count(*) from (select 1 from main.evaluation_splits "
        "where split = 'train' and delta is not null limit ?)",
        [MIN_TRAINING_RATINGS],
    ).fetchall()[0][0]
    return rated < MIN_TRAINING_RATINGS


def influencer_reels(
    con: duckdb.DuckDBPyConnection, influencer_id: str, n_items: int
) -> tuple[sp.csr_matrix, pd.DataFrame]:
    """(their rated reels as a 1 x songs row, as the refit on every reel saw them; their
    used songs without a rating, as (user, item) codes): what serving leaves out."""
    got = con.execute(
        f"{CODES} select item_code, delta from main.evaluation_splits as reels "
        "inner join song_codes on reels.song_id = song_codes.song_id "
        "where reels.influencer_id = ? order by item_code",
        [influencer_id],
    ).fetchnumpy()
    item = np.asarray(got["item_code"], dtype=np.int64)
    delta = np.ma.filled(np.ma.asarray(got["delta"], dtype=np.float64), np.nan)
    rated = np.ones(item.size, dtype=bool) if is_implicit(con) else ~np.isnan(delta)
    rating = np.where(np.isnan(delta), 1.0, delta)[rated]
    indptr = np.array([0, int(rated.sum())])
    used = sp.csr_matrix((rating, item[rated], indptr), shape=(1, n_items))
    unrated = pd.DataFrame({"user": np.zeros((~rated).sum(), dtype=np.int32), "item": item[~rated]})
    return used, unrated


def on_demand_list(
    con: duckdb.DuckDBPyConnection, method: str, influencer_id: str, n: int
) -> pd.DataFrame | None:
    """Top ``n`` (rank, song_id, score, because_song_id) of ``method`` for the influencer,
    from its parts; None when the warehouse keeps no parts of ``method``."""
    parts = read_parts(con, method, influencer_id)
    if parts is None:
        return None
    if NO_PARTS in parts.settings:
        raise NoPartsError(parts.settings[NO_PARTS])
    used, unrated = influencer_reels(con, influencer_id, int(parts.settings["n_items"]))
    model = rebuild(parts, used)
    frame = recommendation_frame(
        None, model, method, n, unrated, explain=True, users=np.zeros(1, dtype=np.int32)
    )
    codes = np.unique(np.r_[frame["item"], frame["because"]])
    ids = dict(
        con.execute(
            f"{CODES} select item_code, song_id from song_codes where list_contains(?, item_code)",
            [codes.tolist()],
        ).fetchall()
    )
    return pd.DataFrame(
        {
            "rank": frame["rank"].to_numpy(),
            "song_id": [ids[c] for c in frame["item"]],
            "score": frame["score"].to_numpy(),
            # object: pandas' string dtype would make "no reason" NaN, not None
            "because_song_id": pd.Series([ids.get(c) for c in frame["because"]], dtype=object),
        }
    )
