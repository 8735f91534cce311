"""KNNBaseline's ranker (mu + b_u + b_i off the cells, a correction on them) against the dense
ranking it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from models_py.recommenders import KNNBaseline, Ratings
from models_py.recommenders.base import dense_top_n
from tests.ranking_checks import assert_recommend_equals_dense
from tests.test_ranking import count_dense

N_USERS, N_ITEMS = 50, 300


def ratings(seed: int) -> Ratings:
    """~8 songs per user; users 0-1 used most songs, user 2 none, song 5 unrated."""
    rng = np.random.default_rng(seed)
    mask = rng.random((N_USERS, N_ITEMS)) < 0.03
    mask[0, :250] = mask[1, ::2] = True
    mask[2], mask[:, 5] = False, False
    user, item = np.nonzero(mask)
    return Ratings(user, item, rng.choice([-1.0, 0.0, 0.5, 1.0], user.size), N_USERS, N_ITEMS)


def coarsen(model: KNNBaseline) -> None:
    """A few exact binary values for biases, residuals and similarities: many tied scores, and
    corrections that cancel to 0."""
    model.user_bias_ = np.round(model.user_bias_ * 2) / 2
    model.item_bias_ = np.round(model.item_bias_ * 4) / 4
    model.residuals_ = np.round(model.residuals_ * 2) / 2
    model.reverse_neighbors_.data = np.round(model.reverse_neighbors_.data * 4) / 4 + 0.25
    model.item_order_ = np.lexsort((np.arange(N_ITEMS), -model.item_bias_))


def check_equals_dense(model: KNNBaseline, seed: int) -> int:
    rng = np.random.default_rng(seed)
    users = np.r_[np.arange(N_USERS), rng.integers(0, N_USERS, 15)]  # repeats too
    shelf = rng.random(N_ITEMS) < 0.3
    return (
        assert_recommend_equals_dense(
            model, users, dense_top_n, (1, 3, 10, 120, N_ITEMS + 5), (None, shelf)
        )
        * users.size
    )


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"similarity": "koren"},
        {"n_neighbors": 2, "n_stored": 5},
        {"shrinkage": 0.0, "min_support": 2, "similarity": "koren"},
    ],
)
@pytest.mark.parametrize("seed", range(4))
def test_recommend_equals_the_dense_ranking(
    params: dict, tied: bool, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = KNNBaseline(**params).fit(ratings(seed))
    if tied:
        coarsen(model)
    dense_rows = count_dense(monkeypatch, model)
    ranked = check_equals_dense(model, seed)
    # Lists of 120 or more (over a quarter of the songs) are ranked on every song (a fifth of
    # the lists ranked), and so are users whose neighbours are most of these few songs (with
    # 100 stored per song, nearly all): with 5 stored, the levels settle nearly all the rest.
    if model.n_stored_ <= 5:
        assert sum(dense_rows) < 0.3 * ranked


def test_score_block_is_baseline_plus_the_pairwise_correction() -> None:
    model = KNNBaseline(n_neighbors=3).fit(ratings(1))
    users = np.arange(N_USERS)
    scores = model._score_block(users)
    u, i = np.meshgrid(users, np.arange(N_ITEMS), indexing="ij")
    np.testing.assert_allclose(
        scores, model.predict(u.ravel(), i.ravel(), clip=False).reshape(scores.shape)
    )
