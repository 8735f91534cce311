"""The ranker of bias and MF models (separable_rank) against the dense ranking it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from models_py.recommenders import BiasBaseline, BiasedMF, Ratings, separable_rank
from models_py.recommenders.base import RatingRecommender, dense_top_n
from models_py.recommenders.covariate_adjusted import CovariateAdjusted
from models_py.recommenders.separable_rank import rank_index
from tests.ranking_checks import assert_recommend_equals_dense
from tests.test_ranking import count_dense

N_USERS, N_ITEMS = 60, 1_000


def ratings(seed: int) -> Ratings:
    """Mostly ~5 songs per user; users 0-2 used most songs, user 3 none, song 7 unrated."""
    rng = np.random.default_rng(seed)
    mask = rng.random((N_USERS, N_ITEMS)) < 0.005
    mask[0, :900] = mask[1, ::2] = mask[2, 100:] = True
    mask[3], mask[:, 7] = False, False
    user, item = np.nonzero(mask)
    return Ratings(user, item, np.round(rng.normal(size=user.size), 1), N_USERS, N_ITEMS)


def inner(model: RatingRecommender) -> RatingRecommender:
    return model.estimator_ if isinstance(model, CovariateAdjusted) else model


def coarsen(model: RatingRecommender) -> None:
    """Round the learned terms to a few exact binary values: many exactly tied scores."""
    m = inner(model)
    m.user_bias_ = np.round(m.user_bias_ * 2) / 2
    m.item_bias_ = np.round(m.item_bias_ * 4) / 4
    factors = getattr(m, "item_factors_", None)
    if factors is not None:
        m.user_factors_ = np.round(m.user_factors_ * 2) / 2
        m.item_factors_ = factors = np.round(factors * 2) / 2
    m.item_order_, m.item_norm_after_ = rank_index(m.item_bias_, factors)


MODELS = {
    "bias": lambda: BiasBaseline(),
    "mf": lambda: BiasedMF(n_factors=3, reg=5.0, n_iter=5),
    "mf_strong_factors": lambda: BiasedMF(n_factors=3, reg=0.05, n_iter=5),  # mostly dense
    "mf_zero_factors": lambda: BiasedMF(n_factors=2, reg=1e4, n_iter=3),
    "er_bias": lambda: CovariateAdjusted(BiasBaseline(), user_covariate=np.arange(N_USERS) / 7),
    "er_mf": lambda: CovariateAdjusted(
        BiasedMF(n_factors=3, reg=5.0, n_iter=5), user_covariate=np.arange(N_USERS) % 5 / 4
    ),
}


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("seed", range(3))
def test_recommend_equals_the_dense_ranking(
    name: str, tied: bool, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MODELS[name]().fit(ratings(seed))
    if tied:
        coarsen(model)
    dense_rows = count_dense(monkeypatch, model)
    rng = np.random.default_rng(seed)
    users = np.r_[np.arange(N_USERS), rng.integers(0, N_USERS, 20)]  # repeats too
    shelf = rng.random(N_ITEMS) < 0.3
    calls = assert_recommend_equals_dense(
        model, users, dense_top_n, (1, 3, 10, 200, N_ITEMS + 5), (None, shelf)
    )
    assert sum(dense_rows) < calls * users.size / 2  # the levels settled some users


@pytest.mark.parametrize("name", ["bias", "mf_zero_factors", "er_bias", "er_mf"])
def test_the_pruned_path_ranks_most_users_when_biases_dominate(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MODELS[name]().fit(ratings(0))
    calls = count_dense(monkeypatch, model)
    model.recommend(np.arange(N_USERS), 5)
    assert sum(calls) <= 0.2 * N_USERS


def test_dense_scores_do_not_depend_on_the_songs_scored_with() -> None:
    model = MODELS["er_mf"]().fit(ratings(1))
    users, items = np.array([5, 0, 9]), np.array([3, 4, 500, 999])
    block = model.ranker().block(users)
    np.testing.assert_array_equal(
        block.scores(np.arange(users.size), items), model._score_block(users)[:, items]
    )
    np.testing.assert_array_equal(
        block.scores(np.array([1]), items[1:3]), model._score_block(users[1:2])[:, items[1:3]]
    )


def test_a_left_out_song_reaching_the_bound_exactly_is_not_missed() -> None:
    """Song 0 (bias 0.5, |q| 0.5) ties the 18 songs of bias 1 at score 1.0 and wins by its code;
    it is left out of the first 18 candidates (2n + 16 for n=1) and reaches the bound exactly."""
    ratings = Ratings(np.array([0]), np.array([99]), np.array([0.0]), 2, 100)
    model = BiasedMF(n_factors=1, n_iter=0).fit(ratings)
    model.global_mean_ = 0.0
    model.user_bias_ = np.zeros(2)
    model.user_factors_ = np.array([[1.0], [0.0]])
    model.item_bias_ = np.r_[0.5, np.ones(18), np.zeros(81)]
    model.item_factors_ = np.r_[0.5, np.zeros(99)][:, None]
    model.item_order_, model.item_norm_after_ = rank_index(model.item_bias_, model.item_factors_)
    ids, vals = model.recommend(np.array([0, 1]), 1, exclude_used=False)
    assert ids[:, 0].tolist() == [0, 1] and vals[:, 0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("k", [0, 1, 8, 33])
def test_factor_dot_is_the_product_the_same_float_for_any_subset(
    k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(separable_rank, "TILE_CELLS", 97)  # many tiles, ragged
    rng = np.random.default_rng(k)
    p, q = rng.normal(size=(40, k)), rng.normal(size=(300, k))
    full = separable_rank.factor_dot(p, q)
    np.testing.assert_allclose(full, p @ q.T, atol=1e-12)
    users, items = rng.choice(40, 7, replace=False), np.sort(rng.choice(300, 11, replace=False))
    np.testing.assert_array_equal(
        separable_rank.factor_dot(p[users], q[items]), full[users][:, items]
    )
    np.testing.assert_array_equal(separable_rank.factor_dot(p[:1], q[5:6]), full[:1, 5:6])


def test_covariate_adjusted_of_another_model_ranks_as_that_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from models_py.recommenders import ItemKNN, ReportSVD

    model = CovariateAdjusted(ItemKNN(n_neighbors=5), user_covariate=np.arange(N_USERS) / 3)
    model.fit(ratings(4))
    dense_rows = count_dense(monkeypatch, model)
    calls = assert_recommend_equals_dense(model, np.arange(N_USERS), dense_top_n, (7,), (None,))
    assert sum(dense_rows) < calls * N_USERS
    dense = CovariateAdjusted(ReportSVD(n_factors=3), np.arange(N_USERS) / 3).fit(ratings(4))
    assert dense.ranker() is None
