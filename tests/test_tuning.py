"""Tuning (models_py/recommenders/tuning): tune's grid search on validation RMSE, and map_at_k,
the ranking metric tune_ranking judges by."""

from __future__ import annotations

import numpy as np
import pytest

from models_py.recommenders import BiasBaseline, Ratings, evaluate, tune
from models_py.recommenders.tuning import (
    MAX_TUNING_USERS,
    map_at_k,
    map_score,
    tune_ranking,
    tuning_sample,
)
from models_py.synth.generate import DEFAULT_SIZES
from tests.dense_refs import small_matrix


def test_tune_picks_the_lowest_validation_rmse() -> None:
    ratings, _ = small_matrix(14)
    grid = {"reg_user": [0.0, 1.0, 1e6], "reg_item": [1.0, 1e6]}
    best, table = tune(BiasBaseline, grid, ratings, validation_fraction=0.3, seed=1)
    assert len(table) == 6
    assert best == min(table, key=lambda row: row[1])[0]
    train, valid = ratings.split(0.3, 1)
    by_hand = evaluate(BiasBaseline(**best).fit(train), valid)["rmse"]
    assert by_hand == pytest.approx(min(r for _, r in table))
    assert tune(BiasBaseline(), grid, ratings, validation_fraction=0.3, seed=1) == (best, table)


def test_map_at_k_matches_the_sql_definition() -> None:
    class Fixed(BiasBaseline):
        def _score_block(self, users: np.ndarray) -> np.ndarray:
            return np.tile(-np.arange(self.n_items_, dtype=float), (users.size, 1))

    model = Fixed().fit(Ratings(np.array([0]), np.array([5]), np.array([1.0]), 2, 6))
    # User 0 ranks 0,1,2 (5 is used); relevant {1, 3}: AP@3 = (1/2) / 2. User 1: {0}: AP = 1.
    valid = Ratings(np.array([0, 0, 1, 1]), np.array([1, 3, 0, 2]), np.array([1, 1, 1, -1.0]), 2, 6)
    assert map_at_k(model, valid, k=3) == pytest.approx(((1 / 2) / 2 + 1.0) / 2)
    # Its standard error: the sd of the two APs (0.25 and 1) over sqrt(2).
    assert map_score(model, valid, k=3).se == pytest.approx(np.std([0.25, 1.0], ddof=1) / 2**0.5)


def test_map_at_k_on_many_users_averages_a_seeded_sample_of_them() -> None:
    rng = np.random.default_rng(1)
    n_users, n_items = 200, 30
    fit = Ratings(
        np.arange(n_users), rng.integers(0, n_items, n_users), np.ones(n_users), n_users, n_items
    )
    model = BiasBaseline().fit(fit)
    user = np.repeat(np.arange(n_users), 3)
    item = np.concatenate([rng.choice(n_items, 3, replace=False) for _ in range(n_users)])
    valid = Ratings(user, item, rng.normal(size=user.size), n_users, n_items)
    # Each user's own AP (one user's held-out rows alone), then the mean over the sample.
    per_user = {}
    for u in np.unique(valid.user[valid.rating > 0]):
        rows = valid.user == u
        one = Ratings(valid.user[rows], valid.item[rows], valid.rating[rows], n_users, n_items)
        per_user[u] = map_at_k(model, one, k=5)
    assert map_at_k(model, valid, k=5, max_users=None) == pytest.approx(
        np.mean(list(per_user.values()))
    )
    everyone = map_score(model, valid, k=5, max_users=None)
    aps = list(per_user.values())
    assert everyone.se == pytest.approx(np.std(aps, ddof=1) / np.sqrt(len(aps))) and everyone.se > 0
    sampled = map_at_k(model, valid, k=5, max_users=40, seed=3)
    chosen = np.sort(np.random.default_rng(3).choice(len(per_user), 40, replace=False))
    assert sampled == pytest.approx(np.mean([list(per_user.values())[i] for i in chosen]))
    assert sampled != pytest.approx(map_at_k(model, valid, k=5, max_users=40, seed=4))


def many_users(n_users: int, seed: int = 0) -> Ratings:
    """Three ratings per user over 40 items, Delta-like values."""
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(n_users), 3)
    item = np.concatenate([rng.choice(40, 3, replace=False) for _ in range(n_users)])
    return Ratings(user, item, rng.normal(size=user.size), n_users, 40)


def test_tuning_sample_keeps_every_reel_of_a_seeded_sample_of_users_past_the_limit() -> None:
    ratings = many_users(300)
    sample = tuning_sample(ratings, max_users=100, seed=0)
    kept = np.unique(sample.user)
    assert kept.size == 100 and sample.n_users == 300 and sample.n_items == 40
    assert len(sample) == 300  # all three reels of each kept user
    again = tuning_sample(ratings, max_users=100, seed=0)
    assert np.array_equal(again.user, sample.user) and np.array_equal(again.item, sample.item)
    assert not np.array_equal(np.unique(tuning_sample(ratings, 100, seed=1).user), kept)


def test_tuning_sample_is_the_ratings_themselves_up_to_the_limit() -> None:
    ratings = many_users(300)
    assert tuning_sample(ratings, max_users=300) is ratings
    assert tuning_sample(ratings, max_users=None) is ratings
    # The default data (generate.DEFAULT_SIZES, celebrities included) is tuned on every reel.
    assert sum(DEFAULT_SIZES[k] for k in ("n_influencers", "n_celebrities")) < MAX_TUNING_USERS


def test_tune_and_tune_ranking_search_on_the_sample_past_the_limit() -> None:
    ratings = many_users(400, seed=2)
    sample = tuning_sample(ratings, max_users=150, seed=1)
    grid = {"reg_user": [0.0, 5.0], "reg_item": [0.0, 50.0]}
    sampled = tune(BiasBaseline(), grid, ratings, seed=1, max_users=150)
    assert sampled == tune(BiasBaseline(), grid, sample, seed=1, max_users=None)
    assert sampled[1] != tune(BiasBaseline(), grid, ratings, seed=1, max_users=None)[1]
    ranking = tune_ranking(BiasBaseline(), grid, ratings, k=3, seed=1, max_users=150)
    assert ranking == tune_ranking(BiasBaseline(), grid, sample, k=3, seed=1, max_users=None)


class CountingBaseline(BiasBaseline):
    """Counts its fits (class-wide: tune fits clones)."""

    fits = 0

    def fit(self, ratings: Ratings) -> CountingBaseline:
        type(self).fits += 1
        return super().fit(ratings)


def test_a_search_already_made_in_the_process_is_reused() -> None:
    ratings = many_users(120, seed=5)
    grid = {"reg_user": [1.0, 7.0], "reg_item": [3.0]}
    before = CountingBaseline.fits
    first = tune(CountingBaseline(), grid, ratings, seed=4)
    assert CountingBaseline.fits == before + 2
    first[0]["reg_user"] = -1.0  # the caller's copy: the cached result is left alone
    assert tune(CountingBaseline(), grid, ratings, seed=4)[0]["reg_user"] != -1.0
    assert CountingBaseline.fits == before + 2
    # Other ratings, another cut or other parameters search again.
    tune(CountingBaseline(), grid, ratings.with_rating(ratings.rating + 1.0), seed=4)
    tune(CountingBaseline(), grid, ratings, seed=5)
    tune(CountingBaseline(reg_item=2.0), {"reg_user": [1.0, 7.0]}, ratings, seed=4)
    assert CountingBaseline.fits == before + 8
