"""Hold-out evaluation and grid search for the rating recommenders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.model_selection import ParameterGrid

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings


def evaluate(model: RatingRecommender, test: Ratings) -> dict[str, float]:
    """RMSE and MAE of a fitted model on held-out ratings."""
    pred = model.predict(test.user, test.item)
    return {
        "rmse": float(root_mean_squared_error(test.rating, pred)),
        "mae": float(mean_absolute_error(test.rating, pred)),
    }


def tune(
    estimator: RatingRecommender | Callable[[], RatingRecommender],
    param_grid: Mapping[str, Sequence[Any]],
    ratings: Ratings,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], float]]]:
    """Grid search by validation RMSE: every combination is fitted on ``ratings`` minus a seeded
    random ``validation_fraction`` and scored on that fraction. Pass training data only, so the
    test set stays unseen. Returns (best params, [(params, rmse)] in grid order); ties go to the
    first combination in the grid.
    """
    base = estimator if isinstance(estimator, RatingRecommender) else estimator()
    train, valid = ratings.split(validation_fraction, seed)
    table: list[tuple[dict[str, Any], float]] = []
    for params in ParameterGrid(dict(param_grid)):
        model = clone(base).set_params(**params).fit(train)
        table.append((params, evaluate(model, valid)["rmse"]))
    if not table:
        raise ValueError("empty parameter grid")
    best = min(range(len(table)), key=lambda k: table[k][1])
    return table[best][0], table
