"""The Python stage: read the clean split from the warehouse, fit every model, write scores.

Each model is fitted on the training split and judged by dbt on the held-out reels (the same
split and the same metric SQL as the popularity methods); the shipped models are refitted on
all clean reels to serve recommendations. Everything goes to the `scores` schema.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from models_py import progress
from models_py.contract import project_var
from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.baselines import BiasBaseline, GlobalMean
from models_py.recommenders.content import (
    ContentRecommender,
    HybridRecommender,
    song_features,
    top_k_neighbours,
)
from models_py.recommenders.covariate_adjusted import CovariateAdjusted
from models_py.recommenders.data import Ratings
from models_py.recommenders.item_knn import ItemKNN
from models_py.recommenders.knn_baseline import KNNBaseline
from models_py.recommenders.matrix_factorization import BiasedMF
from models_py.recommenders.new_influencer import SimilarInfluencers
from models_py.recommenders.report_cf import ReportItemCF, ReportUserCF
from models_py.recommenders.report_svd import ReportSVD
from models_py.recommenders.tuning import tune, tune_ranking
from models_py.scoring.writer import SCHEMA
from models_py.synth.oracle import PlantedModel


@dataclass(frozen=True)
class ModelSpec:
    """A model as the warehouse knows it: its method name, how to build it, what it is for."""

    method: str
    family: str  # baseline | faithful | model | oracle
    make: Callable[[ScoringData], RatingRecommender]
    serve: bool = False  # refit on all reels and publish recommendations
    grid: dict[str, list] | None = None  # tuned on a validation cut of the training split
    # Tuned by validation MAP@10 (lifted) instead of RMSE: parameters that only reorder lists.
    rank_grid: dict[str, list] | None = None
    cold_song: bool = False  # also judged on songs it never saw used (scenario cold_song)
    # Rough seconds to fit and score on the default data. Only orders the work, longest
    # first, so the two workers finish together; results are merged in spec order regardless.
    cost: float = 1.0


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("global_mean", "baseline", lambda data: GlobalMean()),
    ModelSpec("bias_baseline", "baseline", lambda data: BiasBaseline(), cost=0.2),
    # Biases on what the influencer's usual ER does not explain (see covariate_adjusted).
    ModelSpec(
        "er_bias_baseline",
        "model",
        lambda data: CovariateAdjusted(BiasBaseline(), user_covariate=data.user_er),
        serve=True,
        grid={"estimator__reg_user": [5.0, 15.0, 30.0], "estimator__reg_item": [5.0, 15.0, 30.0]},
        cost=0.6,
    ),
    ModelSpec(
        "report_user_cf", "faithful", lambda data: ReportUserCF(similarity="cosine"), cost=2.7
    ),
    ModelSpec(
        "report_item_cf", "faithful", lambda data: ReportItemCF(similarity="cosine"), cost=3.3
    ),
    ModelSpec("report_svd", "faithful", lambda data: ReportSVD(random_state=0), cost=3.9),
    ModelSpec("item_knn", "model", lambda data: ItemKNN(n_neighbors=20), serve=True, cost=2.2),
    # Koren's rule (n_stored = n_neighbors) or wider candidate lists: see knn_baseline.
    ModelSpec(
        "knn_baseline",
        "model",
        lambda data: KNNBaseline(),
        serve=True,
        grid={"n_stored": [40, 100]},
        cost=6.5,
    ),
    ModelSpec(
        "biased_mf",
        "model",
        lambda data: BiasedMF(random_state=0),
        serve=True,
        grid={"n_factors": [2, 8], "reg": [10.0, 40.0]},
        cost=1.4,
    ),
    ModelSpec(
        "er_biased_mf",
        "model",
        lambda data: CovariateAdjusted(
            BiasedMF(random_state=0, reg_item_bias=15.0), user_covariate=data.user_er
        ),
        serve=True,
        grid={"estimator__reg": [10.0, 40.0], "estimator__reg_user_bias": [5.0, 15.0]},
        cost=1.8,
    ),
    # Metadata only: ranks songs nobody has used like any other.
    ModelSpec(
        "content",
        "model",
        lambda data: ContentRecommender(song_features=data.song_features),
        serve=True,
        rank_grid={"appeal_weight": [0.0, 0.5, 1.0, 2.0]},
        cold_song=True,
        cost=7.9,
    ),
    ModelSpec(
        "hybrid",
        "model",
        lambda data: HybridRecommender(
            usage=CovariateAdjusted(
                # er_biased_mf at the setting its tuning picks on the default data.
                BiasedMF(random_state=0, reg_item_bias=15.0, reg=40.0, reg_user_bias=15.0),
                user_covariate=data.user_er,
            ),
            content=ContentRecommender(song_features=data.song_features),
        ),
        serve=True,
        rank_grid={"weight": [0.0, 0.25, 0.5, 0.75, 1.0]},
        # Not refitted for cold_song: its usage part scores every unseen song alike, so on
        # new songs it orders them exactly as content does (any weight > 0).
        cost=6.2,
    ),
)
NEW_INFLUENCER_METHOD = "similar_influencers"  # cold_influencer only; served by the CLI
CONTENT_NEIGHBOURS = 20


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


def _ratings(frame: pd.DataFrame, n_users: int, n_items: int) -> Ratings:
    return Ratings(
        user=frame["user"].to_numpy(np.int32),
        item=frame["item"].to_numpy(np.int32),
        rating=frame["delta"].to_numpy(np.float64),
        n_users=n_users,
        n_items=n_items,
    )


# Codes are positions in the sorted ids, numbered in SQL, so the reels come into Python as
# integers: as text, 10M reels and their cold-start copies held ~8 GB in the scoring process.
_CODES = """
    with influencer_codes as (
        select
            influencer_id,
            cast(row_number() over (order by influencer_id) - 1 as integer) as user_code
        from main.influencers
    ),
    song_codes as (
        select song_id, cast(row_number() over (order by song_id) - 1 as integer) as item_code
        from main.songs
    )
"""


def read_coded(
    con: duckdb.DuckDBPyConnection, relation: str, columns: str, where: str = "true"
) -> pd.DataFrame:
    """Rows of `relation` (keyed by influencer_id, song_id) as user and item codes plus
    `columns`, ordered by user then item."""
    return con.execute(
        f"{_CODES} select user_code as user, item_code as item, {columns} "
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
    reels = read_coded(con, "evaluation_splits", "split = 'train' as is_train, delta")
    rated = reels["delta"].notna().to_numpy()
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
        _ratings(reels[is_train], *shape),
        _ratings(reels[~is_train], *shape),
        _ratings(reels, *shape),
        influencers["er"].to_numpy(np.float64, na_value=np.nan),
        unrated,
        song_features(songs),
        influencers["bio"].fillna("").to_numpy(object),
        influencers["tier"].to_numpy(object),
        read_cold_scenarios(con, shape),
        read_evaluated(con, len(influencer_ids)),
    )


def read_evaluated(con: duckdb.DuckDBPyConnection, n_influencers: int) -> np.ndarray:
    """evaluation_influencers as a mask over influencer codes."""
    judged = con.execute(
        f"{_CODES} select user_code from influencer_codes "
        "inner join main.evaluation_influencers as judged "
        "on influencer_codes.influencer_id = judged.influencer_id"
    ).fetchnumpy()["user_code"]
    mask = np.zeros(n_influencers, dtype=bool)
    mask[judged] = True
    return mask


def read_cold_scenarios(
    con: duckdb.DuckDBPyConnection, shape: tuple[int, int]
) -> dict[str, ColdScenario]:
    """The cold_start_splits holdouts, coded like the warm split."""
    out = {}
    for scenario in ("cold_song", "cold_influencer"):
        # Only the training rows matter here: the held-out side is the warm test's business.
        train = read_coded(
            con, "cold_start_splits", "delta", f"scenario = '{scenario}' and split = 'train'"
        )
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        out[scenario] = ColdScenario(
            train=_ratings(train[train["delta"].notna()], *shape),
            used=sp.csr_matrix((np.ones(len(train)), (users, items)), shape),
            held_out_items=np.bincount(items, minlength=shape[1]) == 0,
            held_out_users=np.bincount(users, minlength=shape[0]) == 0,
        )
    return out


def fit_model(
    spec: ModelSpec, data: ScoringData, ratings: Ratings
) -> tuple[RatingRecommender, dict]:
    """Fit, tuning first on a validation cut of `ratings` when the spec has a grid."""
    model = spec.make(data)
    if spec.grid:
        best, _ = tune(model, spec.grid, ratings, validation_fraction=0.1, seed=0)
        model.set_params(**best)
    if spec.rank_grid:
        best, _ = tune_ranking(model, spec.rank_grid, ratings, validation_fraction=0.1, seed=0)
        model.set_params(**best)
    return model.fit(ratings), model.get_params()


def _plain(params: dict) -> dict:
    """Parameters worth recording: arrays (ids, covariates) and nested estimators left out."""
    return {
        k: v
        for k, v in params.items()
        if not isinstance(v, np.ndarray | RatingRecommender | sp.spmatrix | sp.sparray)
        and v is not None
    }


def recommendation_frame(
    data: ScoringData,
    model: RatingRecommender,
    method: str,
    top_n: int,
    also_used: pd.DataFrame,
    candidates: np.ndarray | None = None,
    explain: bool = False,
    users: np.ndarray | None = None,
) -> pd.DataFrame:
    """Top-n unused songs for every influencer (or the codes in `users`), as codes (user,
    item; append_scores turns them into ids), ranks 1..n (padding dropped).

    `also_used` (user, item) are used songs the model never saw (no rating): the lists are
    asked for enough extra songs to drop them and still hold top_n. `candidates`: a mask
    of the songs that may be ranked (default all). With `explain`, models that can say which
    used song is behind a pick (`because`) fill its code in because (-1: none).
    """
    if users is None:
        users = np.arange(len(data.influencer_ids), dtype=np.int32)
    if len(also_used):
        also_used = also_used[np.isin(also_used["user"].to_numpy(), users)]
    extra = int(also_used.groupby("user").size().max()) if len(also_used) else 0
    items, scores = model.recommend(users, top_n + extra, exclude_used=True, candidates=candidates)
    owner = np.broadcast_to(users[:, None], items.shape)
    keep = items >= 0
    frame = pd.DataFrame({"user": owner[keep], "item": items[keep], "score": scores[keep]})
    if extra:
        seen = frame.merge(also_used[["user", "item"]], how="left", indicator=True)
        frame = frame[(seen["_merge"] == "left_only").to_numpy()]
    frame["rank"] = frame.groupby("user").cumcount() + 1
    frame = frame[frame["rank"] <= top_n]
    user, item = frame["user"].to_numpy(), frame["item"].to_numpy()
    because = np.full(user.size, -1)
    if explain and hasattr(model, "because"):
        because = model.because(user, item)
    return pd.DataFrame(
        {
            "method": method,
            "user": user.astype(np.int32),
            "rank": frame["rank"].to_numpy(np.int32),
            "item": item.astype(np.int32),
            "score": frame["score"].to_numpy(),
            "because": np.asarray(because, dtype=np.int32),
        }
    )


def prediction_frame(data: ScoringData, model: RatingRecommender, method: str) -> pd.DataFrame:
    test = data.test
    return pd.DataFrame(
        {
            "method": method,
            "user": test.user,
            "item": test.item,
            "prediction": model.predict(test.user, test.item),
        }
    )


def neighbour_frame(
    data: ScoringData, neighbours: np.ndarray, similarities: np.ndarray, method: str
) -> pd.DataFrame:
    n_items, k = neighbours.shape
    keep = neighbours >= 0
    return pd.DataFrame(
        {
            "method": method,
            "item": np.repeat(np.arange(n_items, dtype=np.int32), k).reshape(n_items, k)[keep],
            "neighbour_rank": np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), (n_items, k))[
                keep
            ],
            "neighbour_item": neighbours[keep].astype(np.int32),
            "similarity": similarities[keep],
        }
    )


@dataclass
class ScoreTables:
    test_predictions: list[pd.DataFrame]
    evaluation_recommendations: list[pd.DataFrame]
    recommendations: list[pd.DataFrame]
    song_neighbours: list[pd.DataFrame]
    model_runs: list[dict]


def score_model(
    spec: ModelSpec, data: ScoringData, top_n: int, run_id: str, out: ScoreTables
) -> float:
    """Evaluate one model (and serve it if shipped); returns seconds spent."""
    start = time.perf_counter()
    model, params = fit_model(spec, data, data.train)
    fitted = time.perf_counter()
    out.test_predictions.append(prediction_frame(data, model, spec.method))
    unrated_train = data.unrated[data.unrated["split"] == "train"]
    evaluation = recommendation_frame(
        data, model, spec.method, top_n, unrated_train, users=data.evaluated_users()
    )
    out.evaluation_recommendations.append(evaluation.assign(scenario="warm"))
    if spec.cold_song:
        out.evaluation_recommendations.append(cold_song_frame(spec, data, top_n, params))
    scored = time.perf_counter()
    if spec.serve:
        served = spec.make(data).set_params(**params).fit(data.everything)
        out.recommendations.append(
            recommendation_frame(data, served, spec.method, top_n, data.unrated, explain=True)
        )
        if isinstance(served, ItemKNN):
            out.song_neighbours.append(
                neighbour_frame(data, served.neighbors_, served.similarities_, spec.method)
            )
        if type(served) is ContentRecommender:
            ids, sims = top_k_neighbours(served.features_, CONTENT_NEIGHBOURS)
            out.song_neighbours.append(neighbour_frame(data, ids, sims, spec.method))
    served_at = time.perf_counter()
    out.model_runs.append(
        {
            "run_id": run_id,
            "method": spec.method,
            "family": spec.family,
            "params": json.dumps(_plain(params), sort_keys=True, default=str),
            "data_fingerprint": run_id,
            "n_train": len(data.train.rating),
            "n_test": len(data.test.rating),
            "fit_seconds": fitted - start,
            "score_seconds": scored - fitted,
            "serve_seconds": served_at - scored,
        }
    )
    return served_at - start


def cold_song_frame(spec: ModelSpec, data: ScoringData, top_n: int, params: dict) -> pd.DataFrame:
    """The model refitted without the held-out songs' reels ranks only those songs for every
    influencer: the shelf of new releases. It keeps the parameters tuned on the warm
    training split (for the hybrid, any weight > 0 orders new songs as content does: the
    usage model scores every unseen song alike)."""
    cold = data.cold["cold_song"]
    model = spec.make(data).set_params(**params).fit(cold.train)
    # Used songs without a rating are never cold songs (those have no training reel at all).
    no_extra = pd.DataFrame({"user": [], "item": []})
    frame = recommendation_frame(
        data,
        model,
        spec.method,
        top_n,
        no_extra,
        candidates=cold.held_out_items,
        users=data.evaluated_users(),
    )
    return frame.assign(scenario="cold_song")


def cold_influencer_frame(data: ScoringData, top_n: int, run_id: str) -> tuple[pd.DataFrame, dict]:
    """SimilarInfluencers fitted on the other influencers' reels, recommending for each
    held-out influencer from their bio and tier alone (they have no reels)."""
    start = time.perf_counter()
    cold = data.cold["cold_influencer"]
    known = ~cold.held_out_users
    model = SimilarInfluencers().fit(cold.used[known], data.bios[known], data.tiers[known])
    fitted = time.perf_counter()
    judged = cold.held_out_users if data.evaluated is None else cold.held_out_users & data.evaluated
    users = np.flatnonzero(judged)
    items, scores, _ = model.recommend(data.bios[users], data.tiers[users], top_n)
    keep = items >= 0
    ranks = np.broadcast_to(np.arange(1, top_n + 1, dtype=np.int32), items.shape)
    owners = np.broadcast_to(users[:, None], items.shape)
    frame = pd.DataFrame(
        {
            "method": NEW_INFLUENCER_METHOD,
            "scenario": "cold_influencer",
            "user": owners[keep].astype(np.int32),
            "rank": ranks[keep],
            "item": items[keep].astype(np.int32),
            "score": scores[keep],
            "because": np.int32(-1),
        }
    )
    run = {
        "run_id": run_id,
        "method": NEW_INFLUENCER_METHOD,
        "family": "model",
        "params": json.dumps(
            {**model.get_params(), "prior_strength": model.prior_strength_}, sort_keys=True
        ),
        "data_fingerprint": run_id,
        "n_train": int(cold.used[known].nnz),
        "n_test": int(users.size),
        "fit_seconds": fitted - start,
        "score_seconds": time.perf_counter() - fitted,
        "serve_seconds": 0.0,
    }
    return frame, run


# Coded columns of the frames the models return: the code table (of _CODES) each is looked up
# in, its code and id columns, and the id column it becomes.
CODED_COLUMNS = {
    "user": ("influencer_codes", "user_code", "influencer_id", "influencer_id"),
    "item": ("song_codes", "item_code", "song_id", "song_id"),
    "because": ("song_codes", "item_code", "song_id", "because_song_id"),
    "neighbour_item": ("song_codes", "item_code", "song_id", "neighbour_song_id"),
}


SCORE_TABLES = (
    "test_predictions",
    "evaluation_recommendations",
    "recommendations",
    "song_neighbours",
    "model_runs",
)


def clear_scores(con: duckdb.DuckDBPyConnection) -> None:
    """Empty every scores table (shapes fixed by score_tables.TABLES) before a run appends."""
    for name in SCORE_TABLES:
        con.execute(f"delete from {SCHEMA}.{name}").fetchall()


def append_scores(con: duckdb.DuckDBPyConnection, tables: ScoreTables) -> None:
    """Add one job's frames to the scores tables. The frames carry integer codes (cheap to send
    back from the workers); DuckDB joins them to the ids by the same numbering the read used
    (_CODES; no code: NULL)."""
    for name in SCORE_TABLES:
        parts = getattr(tables, name)
        if name == "model_runs":
            parts = [pd.DataFrame(parts)]
        parts = [p for p in parts if len(p)]
        if parts:
            _insert_decoded(con, name, pd.concat(parts, ignore_index=True))


def _insert_decoded(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    coded = [c for c in frame.columns if c in CODED_COLUMNS]
    select = [f"incoming.{c}" for c in frame.columns if c not in CODED_COLUMNS]
    joins = []
    for k, column in enumerate(coded):
        lookup, code, id_column, as_name = CODED_COLUMNS[column]
        select.append(f"c{k}.{id_column} as {as_name}")
        joins.append(f"left join {lookup} as c{k} on c{k}.{code} = incoming.{column}")
    con.register("incoming", frame)
    try:
        con.execute(
            f"insert into {SCHEMA}.{table} by name {_CODES} select {', '.join(select)} "
            f"from incoming {' '.join(joins)}"
        ).fetchall()
    finally:
        con.unregister("incoming")


def truth_matches(truth_dir: Path, loaded_files: set[str]) -> bool:
    """The truth describes exactly the files loaded (so it is the generator's for this data)."""
    params = truth_dir / "params.json"
    if not params.exists():
        return False
    planted = {f["file"] for f in json.loads(params.read_text()).get("files", [])}
    return planted == loaded_files


def oracle_specs(truth_dir: Path, data: ScoringData) -> list[ModelSpec]:
    """The planted model itself, and its biases alone, when the data came from the generator."""

    def planted(include_factors: bool) -> Callable[[ScoringData], RatingRecommender]:
        return lambda data: PlantedModel(
            truth_dir=str(truth_dir),
            influencer_ids=data.influencer_ids,
            song_ids=data.song_ids,
            include_factors=include_factors,
        )

    return [
        ModelSpec("oracle", "oracle", planted(True), cost=1.4),
        ModelSpec("oracle_biases", "oracle", planted(False), cost=1.2),
    ]


# Set just before the worker processes fork, so they inherit the data instead of unpickling it
# (specs hold lambdas, which do not pickle).
_WORK: tuple[list[ModelSpec], ScoringData, int, str] | None = None


NEW_INFLUENCER_COST = 2.0  # seconds on the default data, like ModelSpec.cost


def _score_in_worker(index: int) -> tuple[ScoreTables, float]:
    """Job `index`: the index-th spec, or (one past the last) the new-influencer model."""
    specs, data, top_n, run_id = _WORK
    out = ScoreTables([], [], [], [], [])
    # One BLAS thread per worker: two workers already use both cores.
    with threadpool_limits(limits=1):
        if index < len(specs):
            return out, score_model(specs[index], data, top_n, run_id, out)
        start = time.perf_counter()
        frame, run = cold_influencer_frame(data, top_n, run_id)
        out.evaluation_recommendations.append(frame)
        out.model_runs.append(run)
        return out, time.perf_counter() - start


def score_all(
    specs: list[ModelSpec],
    data: ScoringData,
    top_n: int,
    run_id: str,
    echo: Callable[[str], None],
    sink: Callable[[ScoreTables], None],
    workers: int = 2,
) -> None:
    """Score every model and the new-influencer model, `workers` at a time, longest first.
    Each job's tables go to `sink` as soon as it finishes and are then dropped: at 10M ratings
    holding every model's frames until the end took the parent past 10 GB."""
    global _WORK
    _WORK = (specs, data, top_n, run_id)
    names = [spec.method for spec in specs] + [NEW_INFLUENCER_METHOD]
    costs = [spec.cost for spec in specs] + [NEW_INFLUENCER_COST]
    try:
        context = multiprocessing.get_context("fork")
        with (
            ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
            progress.bar("models", total=len(names), unit="model") as done,
        ):
            # Longest first (LPT): the short models fill in while the long ones run.
            order = sorted(range(len(names)), key=lambda i: -costs[i])
            pending = {pool.submit(_score_in_worker, index): index for index in order}
            for future in as_completed(pending):
                index = pending.pop(future)
                out, seconds = future.result()
                del future  # its result is `out`: let it go once written
                sink(out)
                del out
                done.update(1)
                echo(f"  {names[index]:<18} {seconds:6.1f}s")
    finally:
        _WORK = None


def faithful_max_ratings(con: duckdb.DuckDBPyConnection) -> int:
    """The run's faithful_max_ratings (run_settings), the project default when not built."""
    row = con.execute(
        "select setting_value from main.run_settings where setting = 'faithful_max_ratings'"
    ).fetchall()
    return int(float(row[0][0])) if row else int(project_var("faithful_max_ratings"))


def within_size_limits(
    specs: list[ModelSpec], n_train: int, faithful_max: int
) -> tuple[list[ModelSpec], list[str]]:
    """The specs to fit, and the methods left out: the report's own methods (comparisons,
    never served) past `faithful_max` training ratings, where their co-rating products and
    dense blocks would take longer than every other model together."""
    if n_train <= faithful_max:
        return specs, []
    kept = [spec for spec in specs if spec.family != "faithful"]
    return kept, [spec.method for spec in specs if spec.family == "faithful"]


# Below this the validation cut that tunes the models is (nearly) empty and fitting fails;
# the SQL methods still rank and are judged, so the run goes on without the Python models.
MIN_TRAINING_RATINGS = 100


def run_scoring(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    top_n: int,
    truth_dir: Path | None,
    workers: int = 2,
    echo: Callable[[str], None] = print,
) -> None:
    """Fit, evaluate and serve every model on the built warehouse; write the scores tables."""
    data = read_scoring_data(con)
    echo(
        f"  {len(data.train.rating):,} training and {len(data.test.rating):,} test ratings, "
        f"{len(data.influencer_ids):,} influencers x {len(data.song_ids):,} songs"
    )
    if len(data.train.rating) < MIN_TRAINING_RATINGS:
        echo(
            f"  ! too few clean reels to fit the models ({len(data.train.rating):,} training "
            f"ratings, fewer than {MIN_TRAINING_RATINGS}): only the popularity methods rank"
        )
        return
    loaded = {r[0] for r in con.execute("select source_file from raw.source_files").fetchall()}
    with_truth = truth_dir is not None and truth_matches(truth_dir, loaded)
    faithful_max = faithful_max_ratings(con)
    specs, left_out = within_size_limits(list(MODELS), len(data.train.rating), faithful_max)
    if left_out:
        echo(
            f"  ! {', '.join(left_out)} not fitted: {len(data.train.rating):,} training ratings, "
            f"over faithful_max_ratings ({faithful_max:,}). The report's own "
            "methods grow with influencers x influencers; --var faithful_max_ratings=N to run "
            "them anyway"
        )
    specs += oracle_specs(truth_dir, data) if with_truth else []
    clear_scores(con)
    score_all(specs, data, top_n, run_id, echo, partial(append_scores, con), workers=workers)
