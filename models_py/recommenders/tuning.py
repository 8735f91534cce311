"""Hold-out evaluation and grid search for the rating recommenders."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import joblib
import numpy as np
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


# Influencers whose reels tune the models: past this many in the ratings, every grid point
# fits on the reels of a seeded sample of them (tuning_sample), and only the chosen parameters
# are fitted on every reel. A grid point's cost grows with the reels, while which point wins
# is mostly settled well before (bench/notes.md); the default data and the 1M-row data have
# fewer training influencers, so their tuning is unchanged.
MAX_TUNING_USERS = 120_000


def tuning_sample(
    ratings: Ratings, max_users: int | None = MAX_TUNING_USERS, seed: int = 0
) -> Ratings:
    """``ratings`` itself up to ``max_users`` distinct users (None: no limit); past it, every
    rating of a seeded random sample of that many users, in the same code space."""
    counts = np.bincount(ratings.user, minlength=ratings.n_users)
    users = np.flatnonzero(counts)
    if max_users is None or users.size <= max_users:
        return ratings
    picked = np.random.default_rng(seed).choice(users, max_users, replace=False)
    keep = np.zeros(ratings.n_users, dtype=bool)
    keep[picked] = True
    return ratings.subset(keep[ratings.user])


# tune's results in this process, by what determines them (see _tuning_key): specs that tune
# the same model on the same grid and ratings (er_biased_mf, the hybrid's usage part, the
# two-stage's lift part) search once.
_TUNED: dict[str, tuple[dict[str, Any], list[tuple[dict[str, Any], float]]]] = {}


def _tuning_key(base: RatingRecommender, grid: Mapping[str, Sequence[Any]], *rest: Any) -> str:
    """A hash of the unfitted estimator (its class and parameters, arrays included), the grid,
    the ratings and the cut: equal keys give equal searches."""
    return joblib.hash((type(base).__qualname__, clone(base), dict(grid), *rest))


def tune(
    estimator: RatingRecommender | Callable[[], RatingRecommender],
    param_grid: Mapping[str, Sequence[Any]],
    ratings: Ratings,
    validation_fraction: float = 0.1,
    seed: int = 0,
    max_users: int | None = MAX_TUNING_USERS,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], float]], float]:
    """Grid search by validation RMSE: every combination is fitted on ``ratings`` (past
    ``max_users`` users, on tuning_sample's) minus a seeded random ``validation_fraction`` and
    scored on that fraction. Pass training data only, so the test set stays unseen. Returns
    (best params, [(params, rmse)] in grid order); ties go to the first combination in the
    grid. A search already made in this process with the same inputs is not made again.
    """
    base = estimator if isinstance(estimator, RatingRecommender) else estimator()
    sample = tuning_sample(ratings, max_users, seed)
    key = _tuning_key(base, param_grid, sample, validation_fraction, seed)
    if key not in _TUNED:
        _TUNED[key] = _grid_search(base, param_grid, sample, validation_fraction, seed)
    best, table = _TUNED[key]
    return dict(best), [(dict(params), rmse) for params, rmse in table]


def _grid_search(
    base: RatingRecommender,
    param_grid: Mapping[str, Sequence[Any]],
    ratings: Ratings,
    validation_fraction: float,
    seed: int,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], float]]]:
    """tune's search itself, uncached."""
    train, valid = ratings.split(validation_fraction, seed)
    table: list[tuple[dict[str, Any], float]] = []
    for params in ParameterGrid(dict(param_grid)):
        model = clone(base).set_params(**params).fit(train)
        table.append((params, evaluate(model, valid)["rmse"]))
    if not table:
        raise ValueError("empty parameter grid")
    best = min(range(len(table)), key=lambda k: table[k][1])
    return table[best][0], table


# Users whose validation lists judge a ranking parameter (a seeded sample beyond; the default
# data has fewer). Every grid point ranks them all, densely for the hybrid's mixes, so at scale
# more users would make the hybrid's tuning most of its time.
MAX_RANKING_USERS = 20_000


class MapScore(NamedTuple):
    """MAP@k over the validation users and its standard error (sd of their APs / sqrt n):
    the noise the run's default choice allows for (selection.choose_default)."""

    map: float
    se: float


@dataclass(frozen=True)
class ValidationLists:
    """The users whose top-k lists judge a ranking, and what counts as a hit for them."""

    users: np.ndarray  # user codes, ascending
    n_relevant: np.ndarray  # relevant held-out songs per user
    relevant: np.ndarray  # sorted keys user * n_items + item of the relevant songs
    n_items: int

    @classmethod
    def of(
        cls,
        valid: Ratings,
        min_rating: float | None = 0.0,
        max_users: int | None = MAX_RANKING_USERS,
        seed: int = 0,
    ) -> ValidationLists:
        """Users with a held-out song rated above ``min_rating`` (None: any); past
        ``max_users`` such users, a seeded random sample of that many."""
        keep = np.ones(len(valid), dtype=bool) if min_rating is None else valid.rating > min_rating
        users, items = valid.user[keep], valid.item[keep]
        evaluated, n_relevant = np.unique(users, return_counts=True)
        if max_users is not None and evaluated.size > max_users:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(evaluated.size, max_users, replace=False))
            evaluated, n_relevant = evaluated[pick], n_relevant[pick]
            sampled = np.isin(users, evaluated)
            users, items = users[sampled], items[sampled]
        relevant = np.sort(users.astype(np.int64) * valid.n_items + items)
        return cls(evaluated, n_relevant, relevant, valid.n_items)

    def map(self, recs: np.ndarray) -> float:
        """MAP@k of top-k lists, one row per user of ``users`` (-1 padding)."""
        return self.score(recs).map

    def score(self, recs: np.ndarray) -> MapScore:
        """MAP@k of top-k lists and its standard error (0 below two users)."""
        if self.users.size == 0:
            return MapScore(0.0, 0.0)
        ap = average_precision_at_k(recs, self.users, self.relevant, self.n_items, self.n_relevant)
        se = float(ap.std(ddof=1) / np.sqrt(ap.size)) if ap.size > 1 else 0.0
        return MapScore(float(ap.mean()), se)


def average_precision_at_k(
    lists: np.ndarray,
    users: np.ndarray,
    relevant: np.ndarray,
    n_items: int,
    n_relevant: np.ndarray,
) -> np.ndarray:
    """AP@k of each row of ``lists`` (top-k item codes, -1 padding; row r belongs to user
    ``users[r]``) as dbt's metrics macro defines it: precision at each hit, summed, over
    min(k, the user's ``n_relevant``). ``relevant``: sorted keys user * n_items + item. Rows
    with nothing relevant get 0."""
    k = lists.shape[1]
    want = users.astype(np.int64)[:, None] * n_items + lists
    if relevant.size:
        pos = np.minimum(np.searchsorted(relevant, want), relevant.size - 1)
        hit = (relevant[pos] == want) & (lists >= 0)
    else:
        hit = np.zeros(lists.shape, dtype=bool)
    precision_at_hits = np.cumsum(hit, axis=1) / np.arange(1, k + 1) * hit
    limit = np.minimum(k, n_relevant)
    return np.divide(
        precision_at_hits.sum(axis=1), limit, out=np.zeros(len(lists)), where=limit > 0
    )


def map_at_k(
    model: RatingRecommender,
    valid: Ratings,
    k: int = 10,
    min_rating: float | None = 0.0,
    max_users: int | None = MAX_RANKING_USERS,
    seed: int = 0,
) -> float:
    """MAP@k of a fitted model's top-k unused songs against held-out ratings, the definition
    of dbt's metrics macro: AP normalised by min(k, |relevant|), averaged over users with a
    relevant held-out song. Relevant: held-out songs rated above ``min_rating`` (None: all).
    Past ``max_users`` such users, over a seeded random sample of that many."""
    return map_score(model, valid, k, min_rating, max_users, seed).map


def map_score(
    model: RatingRecommender,
    valid: Ratings,
    k: int = 10,
    min_rating: float | None = 0.0,
    max_users: int | None = MAX_RANKING_USERS,
    seed: int = 0,
) -> MapScore:
    """map_at_k's MAP and its standard error."""
    lists = ValidationLists.of(valid, min_rating, max_users, seed)
    if lists.users.size == 0:
        return MapScore(0.0, 0.0)
    recs, _ = model.recommend(lists.users, k, exclude_used=True)
    return lists.score(recs)


# Seconds a ranking grid search may spend (tune_ranking's default): grid points are tried in
# order until it is spent, so list the likeliest first. On the default data the usage rankers'
# grids fit well within it; at 1M rows and beyond it keeps their first points.
RANKING_TIME_CAP = 60.0


def tune_ranking(
    estimator: RatingRecommender,
    param_grid: Mapping[str, Sequence[Any]],
    ratings: Ratings,
    k: int = 10,
    validation_fraction: float = 0.1,
    seed: int = 0,
    min_rating: float | None = 0.0,
    time_cap: float = RANKING_TIME_CAP,
    max_users: int | None = MAX_TUNING_USERS,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], float]], float]:
    """Grid search by validation MAP@k (relevant: held-out songs rated above ``min_rating``,
    i.e. used and lifted; None: every held-out song used), on the same seeded validation cut
    as ``tune`` (of tuning_sample's users past ``max_users``). Parameters the estimator lists
    in ``scoring_params`` change only how a fitted model scores, so a grid of those alone is
    tried on one fit. Otherwise grid points are fitted in grid order while the next, judged by
    the longest so far, would end within ``time_cap`` seconds (the first always is), so a grid
    never costs unbounded time. Returns (best params, [(params, MAP@k)] of the points tried,
    in grid order, the best's standard error); ties go to the first combination in the
    grid."""
    if not time_cap > 0:
        raise ValueError("time_cap must be > 0 seconds")
    start = time.perf_counter()
    train, valid = tuning_sample(ratings, max_users, seed).split(validation_fraction, seed)
    grid = list(ParameterGrid(dict(param_grid)))
    if not grid:
        raise ValueError("empty parameter grid")
    scoring_only = set(param_grid) <= set(getattr(estimator, "scoring_params", ()))
    if scoring_only:
        # One fit; the model ranks the validation users under every setting at once.
        lists = ValidationLists.of(valid, min_rating)
        fitted = clone(estimator).fit(train)
        ranked = fitted.recommend_each(lists.users, k, grid) if lists.users.size else []
        scores = [lists.score(recs) for recs, _ in ranked] or [MapScore(0.0, 0.0)] * len(grid)
    else:
        scores, longest = [], 0.0
        for params in grid:
            began = time.perf_counter()
            # Judged by the longest point so far: start none that would end past the cap.
            if scores and began + longest - start > time_cap:
                break
            model = clone(estimator).set_params(**params).fit(train)
            scores.append(map_score(model, valid, k, min_rating))
            longest = max(longest, time.perf_counter() - began)
    table = [(params, score.map) for params, score in zip(grid, scores, strict=False)]
    best = max(range(len(table)), key=lambda i: (table[i][1], -i))
    return table[best][0], table, scores[best].se
