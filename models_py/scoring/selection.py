"""Which method the run serves first: the best on the validation cut, never on test.

Every served model (and `count` popularity, in Python as MostUsed) is judged by MAP@k on the
same seeded validation cut of the training split that tunes the models: fitted on the rest of
the training split, its top-k lists are checked against the cut's held-out reels that lifted
engagement (Delta above lift_threshold), or against every held-out reel on usage-only data.

The run's default method follows the one-standard-error rule: of the methods whose MAP is
within one standard error of the best's (a difference the validation cut cannot tell from
noise), the simplest — popularity, then a model on its own, then a model stacked on other
models' scores (two_stage, hybrid) — and within that the best. A stacked model is served
only when it beats its parts by more than the noise: its lists cost theirs and more.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping

import duckdb
from sklearn.base import clone

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.baselines import MostUsed
from models_py.recommenders.data import Ratings
from models_py.recommenders.tuning import MapScore, map_score, tuning_sample
from models_py.scoring.data import ScoringData

VALIDATION_FRACTION = 0.1  # the cut tuning uses too (tuning.tune / tune_ranking)
VALIDATION_SEED = 0
POPULARITY_METHOD = "count"  # the SQL popularity method MostUsed stands in for


def relevant_above(data: ScoringData) -> float | None:
    """What counts as a hit: a held-out reel that lifted; on usage-only data, any reel used."""
    return None if data.implicit else data.lift_threshold


def relevance_name(data: ScoringData) -> str:
    return "used" if data.implicit else "lifted"


def validation_map(model: RatingRecommender, ratings: Ratings, data: ScoringData) -> MapScore:
    """MAP@eval_k (and its standard error) of `model` (unfitted; cloned) fitted on `ratings`
    minus the validation cut, on the influencers the models are tuned on (tuning_sample), so
    every method is judged on the same reels as the rank-tuned ones."""
    sample = tuning_sample(ratings, seed=VALIDATION_SEED)
    train, valid = sample.split(VALIDATION_FRACTION, VALIDATION_SEED)
    fitted = clone(model).fit(train)
    return map_score(fitted, valid, data.eval_k, relevant_above(data))


def popularity_run(data: ScoringData, run_id: str) -> dict:
    """model_runs' row of `count`, judged on the validation cut like the models (its lists
    are SQL's: no fitting, scoring or serving time here)."""
    start = time.perf_counter()
    judged = validation_map(MostUsed(), data.train, data)
    return {
        "run_id": run_id,
        "method": POPULARITY_METHOD,
        "family": "popularity",
        "data_fingerprint": run_id,
        "n_train": len(data.train.rating),
        "n_test": len(data.test.rating),
        "params": "{}",
        "fit_seconds": time.perf_counter() - start,
        "score_seconds": 0.0,
        "serve_seconds": 0.0,
        "trained_on": "usage",
        "validation_map": judged.map,
        "validation_map_se": judged.se,
        "validation_relevance": relevance_name(data),
    }


def simplicity(method: str, stacked: Collection[str]) -> int:
    """0 popularity, 1 a model on its own, 2 a model stacked on other models' scores."""
    return 0 if method == POPULARITY_METHOD else 2 if method in stacked else 1


def choose_default(judged: Mapping[str, MapScore], stacked: Collection[str] = ()) -> str:
    """The one-standard-error rule (module docstring): of the methods within one standard
    error of the highest validation MAP, the simplest, then the best MAP, then by name.
    Popularity when nothing was judged."""
    if not judged:
        return POPULARITY_METHOD
    top = max(judged.values(), key=lambda score: score.map)
    near = [method for method, score in judged.items() if score.map >= top.map - top.se]
    return min(near, key=lambda m: (simplicity(m, stacked), -judged[m].map, m))


def mark_default(
    con: duckdb.DuckDBPyConnection, stacked: Collection[str] = ()
) -> tuple[str, list[tuple[str, MapScore]]]:
    """Set model_runs.is_default on the run's chosen method (every other row false); returns
    it and every (method, validation MAP and its standard error) judged, best first."""
    rows = con.execute(
        "select method, validation_map, coalesce(validation_map_se, 0) from scores.model_runs "
        "where validation_map is not null order by validation_map desc, method"
    ).fetchall()
    judged = [(method, MapScore(value, se)) for method, value, se in rows]
    chosen = choose_default(dict(judged), stacked)
    con.execute("update scores.model_runs set is_default = (method = ?)", [chosen]).fetchall()
    return chosen, judged
