"""The two-stage ranker against a per-influencer transcription of its definition: the usage
ranker's shortlist, re-ranked by the blend of the two stages' standardised scores."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from models_py.recommenders import BiasedMF, ItemKNN
from models_py.recommenders.base import dense_top_n
from models_py.recommenders.two_stage import TwoStageRanker
from tests.dense_refs import N_USERS, small_matrix

N_CANDIDATES = 8


def fitted(weight: float = 0.5) -> TwoStageRanker:
    ratings, _ = small_matrix(4)
    model = TwoStageRanker(
        candidates=ItemKNN(n_neighbors=5),
        lift=BiasedMF(n_factors=2, n_iter=5, random_state=1),
        weight=weight,
        n_candidates=N_CANDIDATES,
    )
    return model.fit(ratings)


def z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def reference(model: TwoStageRanker, user: int, n: int, exclude: sp.csr_matrix) -> list[int]:
    """One influencer's list, straight from the definition."""
    ids, usage = model.candidates_.recommend([user], N_CANDIDATES, exclude=exclude)
    keep = ids[0] >= 0
    songs, usage = ids[0][keep], usage[0][keep]
    lift = model.lift_.predict(np.full(songs.size, user), songs, clip=False)
    mix = (1 - model.weight) * z(usage) + model.weight * z(lift)
    order = np.lexsort((songs, -mix))  # score desc, then song code asc
    return songs[order][:n].tolist()


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_lists_follow_the_definition(weight: float) -> None:
    model = fitted(weight)
    ids, vals = model.recommend(np.arange(N_USERS), 5)
    for user in range(N_USERS):
        got = [int(s) for s in ids[user] if s >= 0]
        assert got == reference(model, user, 5, model.used_)
    assert np.isnan(vals[ids < 0]).all()


def test_weight_zero_is_the_usage_rankers_list() -> None:
    model = fitted(0.0)
    ids, _ = model.recommend(np.arange(N_USERS), 5)
    usage_ids, _ = model.candidates_.recommend(np.arange(N_USERS), 5)
    np.testing.assert_array_equal(ids, usage_ids)


def test_other_exclusions_reach_the_shortlist() -> None:
    model = fitted(0.6)
    rng = np.random.default_rng(2)
    exclude = sp.random(N_USERS, model.n_items_, density=0.4, random_state=rng, format="csr")
    ids, _ = model.recommend(np.arange(N_USERS), 4, exclude=exclude)
    for user in range(N_USERS):
        got = [int(s) for s in ids[user] if s >= 0]
        assert not set(got) & set(exclude[user].indices.tolist())
        assert got == reference(model, user, 4, exclude)


def test_every_weight_on_one_fit_equals_each_weight_alone() -> None:
    model = fitted()
    weights = [{"weight": w} for w in (0.0, 0.25, 0.9)]
    each = model.recommend_each(np.arange(N_USERS), 5, weights)
    for (ids, vals), params in zip(each, weights, strict=True):
        alone_ids, alone_vals = fitted(params["weight"]).recommend(np.arange(N_USERS), 5)
        np.testing.assert_array_equal(ids, alone_ids)
        np.testing.assert_allclose(vals, alone_vals)


def test_dense_scores_rank_like_recommend() -> None:
    model = fitted(0.4)
    ids, _ = model.recommend(np.arange(N_USERS), 5)
    dense_ids, _ = dense_top_n(model, np.arange(N_USERS), 5)
    np.testing.assert_array_equal(ids, dense_ids)


def test_predictions_are_the_lift_models() -> None:
    model = fitted()
    users, songs = np.arange(N_USERS), np.arange(N_USERS) % model.n_items_
    np.testing.assert_allclose(model.predict(users, songs), model.lift_.predict(users, songs))


@pytest.mark.parametrize(
    ("params", "message"),
    [({"weight": 1.5}, "weight"), ({"n_candidates": 0}, "n_candidates"), ({"lift": None}, "lift")],
)
def test_bad_settings_are_refused(params: dict, message: str) -> None:
    model = fitted().set_params(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(small_matrix(4)[0])
