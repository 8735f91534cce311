"""The built warehouse's clean split, read as integer codes for the models."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from models_py import dbt_vars
from models_py.contract import project_vars
from models_py.recommenders.data import Ratings
from models_py.recommenders.song_features import artist_codes, song_features
from models_py.scoring.codes import CODES


@dataclass(frozen=True)
class ScoringData:
    """The split as integer codes, plus the ids to turn codes back into keys."""

    influencer_ids: np.ndarray  # code -> influencer_id
    song_ids: np.ndarray  # code -> song_id
    train: Ratings
    test: Ratings
    everything: Ratings  # all clean reels with a rating, for serving
    user_er: np.ndarray  # each influencer's usual ER (%), NaN when unknown
    # Reels used but with no rating (blank Delta and Curr_ER): never recommended back, though
    # the models cannot learn from them. Columns user, item, split.
    unrated: pd.DataFrame
    # Defaults keep hand-built ScoringData (tests) working for the usage-based models.
    song_features: sp.csr_matrix | None = None  # metadata features per song code (content.py)
    bios: np.ndarray | None = None  # each influencer's bio ('' when blank)
    tiers: np.ndarray | None = None  # each influencer's follower tier
    cold: dict[str, ColdScenario] = field(default_factory=dict)  # cold_song, cold_influencer
    # bool per influencer: judged by the ranking metrics (evaluation_influencers); None: all.
    evaluated: np.ndarray | None = None
    # Too few reels with a Delta to learn ratings from (a usage-only file): every rating is 1,
    # one per reel used, and only the usage-based models are fitted (registry.not_fitted).
    implicit: bool = False
    rated_train_reels: int | None = None  # training reels with a Delta (None: len(train))
    lift_threshold: float = 0.0  # a held-out song is "lifted" when its Delta is above this
    eval_k: int = 10  # cut-off k of the ranking metrics (and of model selection)
    song_artists: np.ndarray | None = None  # artist code per song code, -1 blank (artist_codes)

    def evaluated_users(self) -> np.ndarray:
        """Codes of the influencers whose evaluation lists are made (every one by default)."""
        if self.evaluated is None:
            return np.arange(len(self.influencer_ids), dtype=np.int32)
        return np.flatnonzero(self.evaluated).astype(np.int32)


@dataclass(frozen=True)
class ColdScenario:
    """A cold-start holdout: what models may learn from, and who or what is held out."""

    train: Ratings
    used: sp.csr_matrix  # every training reel, rated or not (what counts as used)
    held_out_items: np.ndarray  # bool per song: no training reel (cold_song)
    held_out_users: np.ndarray  # bool per influencer: no training reel (cold_influencer)


# Below this many training reels with a Delta the validation cut that tunes the rating models
# is (nearly) empty and fitting fails: they are not fitted, and the usage-based models learn
# from which songs were used instead (ScoringData.implicit).
MIN_TRAINING_RATINGS = 100


def _ratings(frame: pd.DataFrame, n_users: int, n_items: int, implicit: bool = False) -> Ratings:
    """The reels of `frame` as ratings: their Delta, or 1 for every reel used (`implicit`)."""
    return Ratings(
        user=frame["user"].to_numpy(np.int32),
        item=frame["item"].to_numpy(np.int32),
        rating=np.ones(len(frame)) if implicit else frame["delta"].to_numpy(np.float64),
        n_users=n_users,
        n_items=n_items,
    )


def read_coded(
    con: duckdb.DuckDBPyConnection, relation: str, columns: str, where: str = "true"
) -> pd.DataFrame:
    """Rows of `relation` (keyed by influencer_id, song_id) as user and item codes plus
    `columns`, ordered by user then item."""
    return con.execute(
        f"{CODES} select user_code as user, item_code as item, {columns} "
        f"from main.{relation} as coded "
        "inner join influencer_codes on coded.influencer_id = influencer_codes.influencer_id "
        "inner join song_codes on coded.song_id = song_codes.song_id "
        f"where {where} order by 1, 2"
    ).df()


def read_scoring_data(con: duckdb.DuckDBPyConnection) -> ScoringData:
    """Clean reels with a rating and their split, coded by sorted influencer and song id."""
    influencers = con.execute(
        "select influencer_id, er, bio, tier from influencers order by influencer_id"
    ).df()
    influencer_ids = influencers["influencer_id"].to_numpy(object)
    song_ids = np.array(
        [r[0] for r in con.execute("select song_id from songs order by 1").fetchall()]
    )
    settings = run_vars(con)
    reels = read_coded(con, "evaluation_splits", "split = 'train' as is_train, delta")
    rated = reels["delta"].notna().to_numpy()
    rated_train = int((rated & reels["is_train"].to_numpy(bool)).sum())
    implicit = rated_train < MIN_TRAINING_RATINGS
    if implicit:  # every reel counts, as a use
        rated = np.ones(len(reels), dtype=bool)
    unrated = reels.loc[~rated, ["user", "item"]].reset_index(drop=True)
    unrated["split"] = np.where(reels["is_train"].to_numpy(bool)[~rated], "train", "test")
    reels = reels[rated]
    is_train = reels["is_train"].to_numpy(bool)
    shape = (len(influencer_ids), len(song_ids))
    songs = con.execute(
        "select title, release_name, artist_name, release_year from songs order by song_id"
    ).df()
    return ScoringData(
        influencer_ids,
        song_ids,
        _ratings(reels[is_train], *shape, implicit),
        _ratings(reels[~is_train], *shape, implicit),
        _ratings(reels, *shape, implicit),
        influencers["er"].to_numpy(np.float64, na_value=np.nan),
        unrated,
        song_features(songs),
        influencers["bio"].fillna("").to_numpy(object),
        influencers["tier"].to_numpy(object),
        read_cold_scenarios(con, shape, implicit),
        read_evaluated(con, len(influencer_ids)),
        implicit,
        rated_train,
        settings.lift_threshold,
        settings.eval_k,
        artist_codes(songs["artist_name"]),
    )


def read_evaluated(con: duckdb.DuckDBPyConnection, n_influencers: int) -> np.ndarray:
    """evaluation_influencers as a mask over influencer codes."""
    judged = con.execute(
        f"{CODES} select user_code from influencer_codes "
        "inner join main.evaluation_influencers as judged "
        "on influencer_codes.influencer_id = judged.influencer_id"
    ).fetchnumpy()["user_code"]
    mask = np.zeros(n_influencers, dtype=bool)
    mask[judged] = True
    return mask


def read_cold_scenarios(
    con: duckdb.DuckDBPyConnection, shape: tuple[int, int], implicit: bool = False
) -> dict[str, ColdScenario]:
    """The cold_start_splits holdouts, coded like the warm split (`implicit`: every reel a 1)."""
    out = {}
    for scenario in ("cold_song", "cold_influencer"):
        # Only the training rows matter here: the held-out side is the warm test's business.
        train = read_coded(
            con, "cold_start_splits", "delta", f"scenario = '{scenario}' and split = 'train'"
        )
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        out[scenario] = ColdScenario(
            train=_ratings(train if implicit else train[train["delta"].notna()], *shape, implicit),
            used=sp.csr_matrix((np.ones(len(train)), (users, items)), shape),
            held_out_items=np.bincount(items, minlength=shape[1]) == 0,
            held_out_users=np.bincount(users, minlength=shape[0]) == 0,
        )
    return out


def run_vars(con: duckdb.DuckDBPyConnection) -> dbt_vars.DbtVars:
    """The vars the warehouse was built with (int_run_vars, checked like a run's), the
    project defaults when it is not built yet."""
    rows = con.execute("select setting, setting_value from intermediate.int_run_vars").fetchall()
    return dbt_vars.from_settings(rows) if rows else dbt_vars.check({}, project_vars())


def faithful_max_ratings(con: duckdb.DuckDBPyConnection) -> int:
    """The run's faithful_max_ratings (int_run_vars), the project default when not built."""
    return run_vars(con).faithful_max_ratings
