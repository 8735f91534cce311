"""The usage rankers against their definitions: EASE against a direct dense numpy transcription
of Steck's closed form, implicit ALS against a dense Hu-Koren-Volinsky solve, both against the
dense ranking (ranking_checks), and the ranking grid search's time cap."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from models_py.recommenders import ItemKNN, tuning
from models_py.recommenders.als import ImplicitALS
from models_py.recommenders.base import dense_top_n
from models_py.recommenders.ease import EASE
from tests.dense_refs import N_ITEMS, N_USERS, brute_ranking, small_matrix
from tests.ranking_checks import assert_recommend_equals_dense


def ease_reference(x: np.ndarray, reg: float) -> np.ndarray:
    """Steck (2019), as written: B = I - P diag(1 / diag P), P = (X^T X + reg I)^-1; X B."""
    p = np.linalg.inv(x.T @ x + reg * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p @ np.diag(1.0 / np.diag(p))
    return x @ b


def used(seed: int) -> tuple[np.ndarray, object]:
    ratings, mask = small_matrix(seed)
    return mask.astype(np.float64), ratings


def popularity_order(counts: np.ndarray) -> np.ndarray:
    return np.lexsort((np.arange(counts.size), -counts))


@pytest.mark.parametrize("reg", [0.5, 5.0, 50.0])
def test_ease_scores_are_the_closed_form(reg: float) -> None:
    x, ratings = used(2)
    model = EASE(reg=reg).fit(ratings)
    users = np.arange(N_USERS)
    scores = model._score_block(users) - model.popularity_tiebreak_
    kept = x.sum(axis=0) > 0  # the unused song is outside B (the tail)
    assert (model.songs_ == np.flatnonzero(kept)).all()
    np.testing.assert_allclose(scores[:, kept], ease_reference(x, reg)[:, kept], atol=1e-12)
    assert (scores[:, ~kept].max(axis=1) < scores[:, kept].min(axis=1)).all()
    # predict gives the same scores pair by pair (they are its ranking scores, not a Delta)
    u, i = np.nonzero(np.ones_like(x))
    np.testing.assert_allclose(
        model.predict(u, i, clip=False).reshape(x.shape), model._score_block(users), atol=1e-12
    )


def test_ease_top_n_is_the_closed_forms_top_n() -> None:
    x, ratings = used(3)
    model = EASE(reg=5.0).fit(ratings)
    ref = ease_reference(x, 5.0) + model.popularity_tiebreak_
    ref[:, x.sum(axis=0) == 0] = -np.inf  # the tail: after every song in B
    n = 5
    want_ids, _ = brute_ranking(ref, x > 0, n)
    ids, _ = model.recommend(np.arange(N_USERS), n)
    assert (ids == want_ids).all()


def test_ease_past_max_songs_uses_the_most_used_and_serves_the_tail_after_by_popularity() -> None:
    x, ratings = used(4)
    counts = x.sum(axis=0)
    top = np.sort(popularity_order(counts)[:8])
    model = EASE(reg=5.0, max_songs=8).fit(ratings)
    assert (model.songs_ == top).all() and model.weights_.shape == (8, 8)
    scores = model._score_block(np.arange(N_USERS)) - model.popularity_tiebreak_
    np.testing.assert_allclose(scores[:, top], ease_reference(x[:, top], 5.0), atol=1e-12)
    ids, _ = model.recommend(np.arange(N_USERS), N_ITEMS, exclude_used=False)
    tail = popularity_order(np.where(np.isin(np.arange(N_ITEMS), top), np.inf, counts))[8:]
    assert (ids[:, 8:] == tail).all()  # every user: the tail last, most used first
    assert np.isin(ids[:, :8], top).all()


def test_ease_max_songs_is_capped_by_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    from models_py.recommenders import ease

    monkeypatch.setattr(ease, "MAX_SONGS_CEILING", 6)
    _, ratings = used(5)
    assert EASE(reg=5.0, max_songs=1_000).fit(ratings).songs_.size == 6


def hkv_solve(c: np.ndarray, other: np.ndarray, reg: float) -> np.ndarray:
    """Each row's factors given the other side's (Hu, Koren & Volinsky, eq. 4), densely:
    x_u = (Y^T C_u Y + reg I)^-1 Y^T C_u p(u), preference 1 where used."""
    k = other.shape[1]
    out = np.empty((c.shape[0], k))
    for r in range(c.shape[0]):
        cy = other * c[r, :, None]
        out[r] = np.linalg.solve(other.T @ cy + reg * np.eye(k), cy.T @ (c[r] > 1))
    return out


def test_als_factors_solve_the_hu_koren_volinsky_equations() -> None:
    x, ratings = used(6)
    alpha, reg = 4.0, 0.5
    model = ImplicitALS(n_factors=3, reg=reg, alpha=alpha, n_iter=200, random_state=1)
    model.fit(ratings)
    confidence = 1.0 + alpha * x
    # At the fixed point each side is the exact solve given the other (implicit's conjugate
    # gradient steps converge to it).
    items = hkv_solve(confidence.T, model.user_factors_, reg)
    np.testing.assert_allclose(model.item_factors_, items, atol=2e-4)
    users = hkv_solve(confidence, model.item_factors_, reg)
    np.testing.assert_allclose(model.user_factors_, users, atol=2e-4)


def test_als_is_deterministic_for_a_random_state() -> None:
    _, ratings = used(7)
    a = ImplicitALS(n_factors=4, random_state=3).fit(ratings)
    b = ImplicitALS(n_factors=4, random_state=3).fit(ratings)
    c = ImplicitALS(n_factors=4, random_state=4).fit(ratings)
    assert np.array_equal(a.user_factors_, b.user_factors_)
    assert np.array_equal(a.item_factors_, b.item_factors_)
    assert not np.array_equal(a.item_factors_, c.item_factors_)


@pytest.mark.parametrize(
    "model",
    [EASE(reg=5.0), EASE(reg=5.0, max_songs=7), ImplicitALS(n_factors=3, random_state=2)],
    ids=["ease", "ease_tail", "als"],
)
def test_usage_rankers_recommend_is_the_dense_ranking(model: object) -> None:
    _, ratings = used(8)
    model.fit(ratings)
    users = np.r_[np.arange(N_USERS), 3, 3]
    rng = np.random.default_rng(0)
    shelves = [None, rng.random(N_ITEMS) < 0.5]
    assert assert_recommend_equals_dense(model, users, dense_top_n, [0, 1, 4, N_ITEMS], shelves)
    other = sp.csr_matrix(rng.random((N_USERS, N_ITEMS)) < 0.3)
    got = model.recommend(users, 6, exclude=other)
    want = dense_top_n(model, users, 6, exclude=other)
    assert (got[0] == want[0]).all() and np.array_equal(got[1], want[1], equal_nan=True)
    assert not other[users[:, None], np.maximum(got[0], 0)].toarray()[got[0] >= 0].any()


def test_ranking_search_stops_at_its_time_cap() -> None:
    _, ratings = used(9)
    grid = {"n_neighbors": [2, 4, 6]}
    _, everything, _ = tuning.tune_ranking(ItemKNN(), grid, ratings, k=3, time_cap=3600.0)
    best, first, _ = tuning.tune_ranking(ItemKNN(), grid, ratings, k=3, time_cap=1e-9)
    assert [p for p, _ in everything] == [{"n_neighbors": k} for k in (2, 4, 6)]
    assert first == everything[:1] and best == {"n_neighbors": 2}  # the first point, always
    with pytest.raises(ValueError):
        tuning.tune_ranking(ItemKNN(), grid, ratings, time_cap=0.0)
