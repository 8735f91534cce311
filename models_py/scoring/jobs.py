"""One model's two jobs in a scoring worker: judge it (tuned and fitted on the training
split, what dbt judges it by) and serve it (refitted on every reel, its parts and, when
listed, its top-n for every influencer). schedule.py runs them."""

from __future__ import annotations

import json
import time

from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.item_knn import ItemKNN
from models_py.recommenders.song_features import top_k_neighbours
from models_py.scoring.data import ScoringData
from models_py.scoring.fitting import _plain, fit_model
from models_py.scoring.frames import (
    cold_song_frame,
    neighbour_frame,
    prediction_frame,
    recommendation_frame,
)
from models_py.scoring.parts_store import parts_tables
from models_py.scoring.registry import ModelSpec
from models_py.scoring.selection import relevance_name
from models_py.scoring.writer import ScoreTables

SONG_NEIGHBOURS = 20  # song_neighbours lists per song, whatever K the models use


def judge_model(
    spec: ModelSpec, data: ScoringData, top_n: int, run_id: str, out: ScoreTables
) -> tuple[float, dict]:
    """Phase one: tune and fit on the training split, write what dbt judges it by (test
    predictions, evaluation lists) and its model_runs row; returns the seconds spent and the
    tuned values the serve phase refits with."""
    start = time.perf_counter()
    model, params, judged, search, tuned = fit_model(spec, data, data.train)
    fitted = time.perf_counter()
    # Usage only, or a model that only ranks (EASE, ALS): no Delta to judge, so no RMSE.
    if not data.implicit and model.predicts_ratings:
        out.test_predictions.append(prediction_frame(data, model, spec.method))
    unrated_train = data.unrated[data.unrated["split"] == "train"]
    evaluation = recommendation_frame(
        data, model, spec.method, top_n, unrated_train, users=data.evaluated_users()
    )
    out.evaluation_recommendations.append(evaluation.assign(scenario="warm"))
    if spec.cold_song:
        out.evaluation_recommendations.append(cold_song_frame(spec, data, top_n, params))
    scored = time.perf_counter()
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
            "serve_seconds": 0.0,
            "trained_on": "usage" if data.implicit else "delta",
            "validation_map": judged.map if judged is not None else None,
            "validation_map_se": judged.se if judged is not None else None,
            "validation_relevance": relevance_name(data) if judged is not None else None,
            "rank_tuning": json.dumps(search, sort_keys=True, default=str) if search else None,
            # The default is marked when chosen, maybe before this row is written.
            "is_default": False,
        }
    )
    return scored - start, tuned or {}


def serve_model(
    spec: ModelSpec, data: ScoringData, top_n: int, tuned: dict, lists: bool, out: ScoreTables
) -> float:
    """Phase two: refit with the tuned values on every clean reel and write its fitted parts,
    its song neighbours and, when `lists`, its top-n for every influencer; returns the seconds
    spent."""
    start = time.perf_counter()
    served = spec.make(data).set_params(**tuned).fit(data.everything)
    # What `reelrec recommend --method` computes one influencer's list from, served or not.
    for table, frames in parts_tables(spec.method, served).items():
        getattr(out, table).extend(frames)
    if lists:
        out.recommendations.append(
            recommendation_frame(data, served, spec.method, top_n, data.unrated, explain=True)
        )
    if isinstance(served, ItemKNN) and served.weighting is None:  # song_neighbours' item_knn
        out.song_neighbours.append(
            neighbour_frame(
                data,
                served.neighbors_[:, :SONG_NEIGHBOURS],
                served.similarities_[:, :SONG_NEIGHBOURS],
                spec.method,
            )
        )
    if type(served) is ContentRecommender:
        ids, sims = top_k_neighbours(served.features_, SONG_NEIGHBOURS)
        out.song_neighbours.append(neighbour_frame(data, ids, sims, spec.method))
    return time.perf_counter() - start
