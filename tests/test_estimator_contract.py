"""The estimator contract every rating recommender keeps: sklearn parameters, pure and
deterministic predictions, the global mean for unseen codes, and recommend's shape, padding,
exclusion of used songs and tie order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from models_py.recommenders import (
    BiasBaseline,
    BiasedMF,
    GlobalMean,
    ItemKNN,
    KNNBaseline,
    RatingRecommender,
    Ratings,
    ReportItemCF,
    ReportSVD,
    ReportUserCF,
    topn,
)
from models_py.recommenders.als import ImplicitALS
from models_py.recommenders.ease import EASE
from tests.dense_refs import N_ITEMS, N_USERS, all_pairs, small_matrix

MODELS = [
    GlobalMean(),
    BiasBaseline(),
    BiasedMF(n_factors=3, n_iter=5, random_state=3),
    KNNBaseline(n_neighbors=5),
    ItemKNN(n_neighbors=4),
    ItemKNN(n_neighbors=4, weighting="bm25"),
    EASE(reg=5.0),
    EASE(reg=5.0, max_songs=9),
    ImplicitALS(n_factors=3, n_iter=5, random_state=3),
    ReportSVD(n_factors=4, random_state=3),
    ReportUserCF(block_size=8),
    ReportItemCF(similarity="pearson"),
]
IDS = [f"{type(m).__name__}{i}" for i, m in enumerate(MODELS)]


def learned(model: RatingRecommender) -> dict[str, Any]:
    return {k: v for k, v in vars(model).items() if k not in model.get_params()}


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def eq(x: Any, y: Any) -> bool:
        if sp.issparse(x):
            return (x != y).nnz == 0
        if isinstance(x, np.ndarray):
            return np.array_equal(x, y, equal_nan=True)
        if hasattr(x, "__dataclass_fields__"):
            return all(eq(getattr(x, f), getattr(y, f)) for f in x.__dataclass_fields__)
        return x == y

    return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_estimator_contract(model: RatingRecommender) -> None:
    ratings, _ = small_matrix(10)
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    assert type(fresh)(**fresh.get_params()).get_params() == model.get_params()
    assert fresh.fit(ratings) is fresh
    state = learned(fresh)
    assert state and all(k.endswith("_") for k in state)
    u, i = all_pairs(N_USERS, N_ITEMS)
    first = fresh.predict(u, i)
    assert first.dtype == np.float64 and np.isfinite(first).all()
    assert np.array_equal(fresh.predict(u, i), first)  # pure: same answer, state untouched
    assert same_state(learned(fresh), state)
    fresh.recommend(np.arange(N_USERS), 4)
    assert same_state(learned(fresh), state)
    again = clone(model).fit(ratings)  # deterministic given the parameters
    assert np.array_equal(again.predict(u, i), first)
    # codes never seen at fit time fall back to the global mean
    out = fresh.predict(np.array([N_USERS, 0, -1]), np.array([0, N_ITEMS, 0]))
    np.testing.assert_allclose(out, ratings.rating.mean())


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_recommend_excludes_used_items_and_pads(
    model: RatingRecommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    ratings, mask = small_matrix(11)
    monkeypatch.setattr(topn, "MAX_BLOCK_CELLS", 3 * N_ITEMS)  # force many blocks
    model = clone(model).fit(ratings)
    users = np.r_[np.arange(N_USERS), 7, 0]  # repeats allowed
    ids, vals = model.recommend(users, N_ITEMS + 2)
    assert ids.shape == vals.shape == (users.size, N_ITEMS + 2)
    assert ids.dtype == np.int32 and vals.dtype == np.float64
    for row, user in enumerate(users):
        n_free = N_ITEMS - mask[user].sum()
        got = ids[row, :n_free]
        assert sorted(got.tolist()) == np.flatnonzero(~mask[user]).tolist()  # all unused, once
        assert (ids[row, n_free:] == -1).all() and np.isnan(vals[row, n_free:]).all()
        v = vals[row, :n_free]
        assert np.isfinite(v).all() and (np.diff(v) <= 0).all()
        ties = np.diff(v) == 0
        assert (np.diff(got)[ties] > 0).all()  # equal scores: ascending item codes
    all_ids, _ = model.recommend(np.arange(N_USERS), N_ITEMS, exclude_used=False)
    assert (np.sort(all_ids, axis=1) == np.arange(N_ITEMS)).all()
    empty_ids, empty_vals = model.recommend(np.array([], dtype=int), 3)
    assert empty_ids.shape == empty_vals.shape == (0, 3)
    with pytest.raises(ValueError):
        model.recommend(np.array([N_USERS]), 3)


def stars(seed: int) -> Ratings:
    """The small matrix on a 1-5 star scale, in steps of 0.5."""
    ratings, _ = small_matrix(seed)
    return ratings.with_rating(np.round(np.interp(ratings.rating, [-7, 5], [1, 5]) * 2) / 2)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_predictions_stay_on_the_training_scale(model: RatingRecommender) -> None:
    """Issue 18, item 5: on 1-5 stars, predictions ran from -2.73 to 6.49 and a served reason
    said "predicted lift of 6.28". Clipped to the training range, as Surprise clips."""
    ratings = stars(10)
    fitted = clone(model).fit(ratings)
    u, i = all_pairs(N_USERS, N_ITEMS)
    predicted = fitted.predict(u, i)
    assert ratings.rating.min() <= predicted.min() and predicted.max() <= ratings.rating.max()
    raw = fitted.predict(u, i, clip=False)
    assert np.array_equal(predicted, np.clip(raw, 1.0, 5.0))
    _, scores = fitted.recommend(np.arange(N_USERS), 4)
    served = fitted.clip_scores(scores[np.isfinite(scores)])
    if fitted.scores_are_ratings:
        assert (served >= 1.0).all() and (served <= 5.0).all()


def test_unclipped_predictions_leave_the_scale_on_these_stars() -> None:
    """So the test above can fail: some models' raw predictions do leave 1-5 here."""
    ratings = stars(10)
    u, i = all_pairs(N_USERS, N_ITEMS)
    raw = {type(m).__name__: clone(m).fit(ratings).predict(u, i, clip=False) for m in MODELS}
    outside = [name for name, p in raw.items() if p.min() < 1.0 or p.max() > 5.0]
    assert len(outside) >= 3, outside
