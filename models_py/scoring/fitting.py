"""Fitting one model as the run does: its grid searches on a validation cut of the training
reels (a sample of influencers past tuning.MAX_TUNING_USERS), then one fit."""

from __future__ import annotations

from typing import NamedTuple

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.tuning import MapScore, tune, tune_ranking
from models_py.scoring.data import ScoringData
from models_py.scoring.registry import ModelSpec
from models_py.scoring.selection import (
    VALIDATION_FRACTION,
    VALIDATION_SEED,
    relevance_name,
    relevant_above,
    validation_map,
)


class Fitted(NamedTuple):
    model: RatingRecommender
    params: dict
    # MAP@eval_k on the validation cut and its standard error (selection.py), for the servable
    # models (the default's candidates); None otherwise.
    validation_map: MapScore | None
    # What the rank_grid search tried within its time cap (rank_search); None without one.
    rank_tuning: dict | None = None
    # The values tuning chose, as set_params takes them: spec.make(data).set_params(**tuned)
    # is the model fitted here, unfitted (the serve phase refits it on every reel).
    tuned: dict | None = None


def fit_model(spec: ModelSpec, data: ScoringData, ratings: Ratings) -> Fitted:
    """Fit, tuning first on a validation cut of `ratings` when the spec has a grid; a served
    model is also judged on that cut, to choose the run's default method."""
    model = spec.make(data)
    judged, search, tuned = None, None, {}
    if spec.grid:
        best = tune_grid(spec, model, ratings)
        prefix = f"{spec.grid_on}__" if spec.grid_on else ""
        tuned.update({prefix + name: value for name, value in best.items()})
        model.set_params(**tuned)
    if spec.rank_grid:
        # Judged as dbt judges: songs that lifted, or (usage only) every song used.
        best, table, se = tune_ranking(
            model,
            spec.rank_grid,
            ratings,
            k=data.eval_k,
            validation_fraction=VALIDATION_FRACTION,
            seed=VALIDATION_SEED,
            min_rating=relevant_above(data),
            time_cap=spec.rank_time_cap,
        )
        model.set_params(**best)
        tuned.update(best)
        # Only a model the run can serve may become its default (ALS is rank-tuned, not
        # served: its search stays in rank_tuning).
        judged = MapScore(max(score for _, score in table), se) if spec.serve else None
        search = rank_search(spec, data, table)
    elif spec.serve:
        judged = validation_map(model, ratings, data)
    return Fitted(model.fit(ratings), model.get_params(), judged, search, tuned)


def tune_grid(spec: ModelSpec, model: RatingRecommender, ratings: Ratings) -> dict:
    """The best of `spec.grid` for `model` (or its `grid_on` part) by validation RMSE. Equal
    searches are made once per process (tuning.tune), so a search made before the workers
    fork (tune_shared_grids) is inherited by all of them."""
    part = model.get_params()[spec.grid_on] if spec.grid_on else model
    best, _ = tune(
        part, spec.grid, ratings, validation_fraction=VALIDATION_FRACTION, seed=VALIDATION_SEED
    )
    return best


def tune_shared_grids(specs: list[ModelSpec], data: ScoringData, ratings: Ratings) -> int:
    """Make, in this process, each RMSE search that more than one of `specs` needs (the same
    model part and grid: er_biased_mf's, in the hybrid and the two-stage ranker too); call it
    before forking the workers so none repeats it. Returns how many searches it made."""
    groups: dict[str, list[tuple[ModelSpec, RatingRecommender]]] = {}
    for spec in specs:
        if spec.grid:
            model = spec.make(data)
            part = model.get_params()[spec.grid_on] if spec.grid_on else model
            groups.setdefault(joblib.hash((clone(part), spec.grid)), []).append((spec, model))
    shared = [group[0] for group in groups.values() if len(group) > 1]
    for spec, model in shared:
        tune_grid(spec, model, ratings)
    return len(shared)


def rank_search(spec: ModelSpec, data: ScoringData, table: list[tuple[dict, float]]) -> dict:
    """model_runs.rank_tuning: the metric, the cap, how much of the grid it let through."""
    return {
        "metric": f"validation map@{data.eval_k} {relevance_name(data)}",
        "time_cap_seconds": spec.rank_time_cap,
        "grid_points": len(ParameterGrid(spec.rank_grid)),
        "tried": [{"params": p, "map": round(v, 6)} for p, v in table],
    }


def _plain(params: dict) -> dict:
    """Parameters worth recording: arrays (ids, covariates) and nested estimators left out."""
    return {
        k: v
        for k, v in params.items()
        if not isinstance(v, np.ndarray | RatingRecommender | sp.spmatrix | sp.sparray)
        and v is not None
    }
