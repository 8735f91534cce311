"""The exact top-n engine (ranking) and what every model's recommend leaves out (exclude=)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.sparse as sp

from models_py.recommenders import (
    BiasBaseline,
    BiasedMF,
    GlobalMean,
    ItemKNN,
    KNNBaseline,
    Ratings,
    ReportSVD,
)
from models_py.recommenders.base import RatingRecommender, dense_top_n
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.covariate_adjusted import CovariateAdjusted
from models_py.recommenders.hybrid import HybridRecommender
from models_py.recommenders.ranking import Cells, RankBlock, Wrapped
from models_py.recommenders.topn import excluded_at, excluded_cells, mask_excluded
from tests.ranking_checks import assert_recommend_equals_dense
from tests.test_content_rank import features

N_USERS, N_ITEMS = 50, 400


@dataclass(frozen=True)
class Watched(Wrapped):
    """A model's ranker that records how many users it scores against every song (the dense
    fallback) and, ``blind``, lets no level settle anyone."""

    dense_rows: list[int] = field(default_factory=list)
    blind: bool = False

    def block_users(self) -> int:
        return 7 if self.blind else self.inner.block_users()  # several blocks

    def block(self, users: np.ndarray) -> RankBlock:
        return WatchedBlock(self.inner.block(users), self)


@dataclass(frozen=True)
class WatchedBlock:
    inner: RankBlock
    ranker: Watched

    def scores(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        if songs.size == self.ranker.order().size:
            self.ranker.dense_rows.append(rows.size)
        return self.inner.scores(rows, songs)

    def cells(self) -> Cells:
        return self.inner.cells()

    def cell_scores(self, which: np.ndarray) -> np.ndarray:
        return self.inner.cell_scores(which)

    def ceiling(self, rows: np.ndarray, m: int) -> np.ndarray:
        return np.full(rows.size, np.inf) if self.ranker.blind else self.inner.ceiling(rows, m)


def count_dense(
    monkeypatch: pytest.MonkeyPatch, model: RatingRecommender, blind: bool = False
) -> list[int]:
    """The numbers of users ``model`` ranks on every song from then on, block by block."""
    rows: list[int] = []
    ranker = model.ranker
    monkeypatch.setattr(model, "ranker", lambda: Watched(ranker(), rows, blind))
    return rows


def ratings(seed: int) -> Ratings:
    """~8 songs per user; user 0 used most songs, user 1 none; ratings on a coarse grid."""
    rng = np.random.default_rng(seed)
    mask = rng.random((N_USERS, N_ITEMS)) < 0.02
    mask[0, : 3 * N_ITEMS // 4] = True
    mask[1] = False
    user, item = np.nonzero(mask)
    return Ratings(user, item, rng.choice([-1.0, 0.0, 0.5, 1.0], user.size), N_USERS, N_ITEMS)


MODELS = {
    "global_mean": lambda: GlobalMean(),
    "bias": lambda: BiasBaseline(),
    "mf": lambda: BiasedMF(n_factors=3, n_iter=4),
    "er_mf": lambda: CovariateAdjusted(BiasedMF(n_factors=2, n_iter=3), np.arange(N_USERS) % 4),
    "item_knn": lambda: ItemKNN(n_neighbors=6),
    "er_item_knn": lambda: CovariateAdjusted(ItemKNN(n_neighbors=6), np.arange(N_USERS) / 9),
    "knn_baseline": lambda: KNNBaseline(n_neighbors=3, n_stored=8),
    "content": lambda: ContentRecommender(song_features=features(2, N_ITEMS)),
    "hybrid": lambda: HybridRecommender(
        usage=BiasedMF(n_factors=2, n_iter=3),
        content=ContentRecommender(song_features=features(2, N_ITEMS)),
    ),
    "svd": lambda: ReportSVD(n_factors=3),
}


def some_songs(seed: int) -> sp.csr_matrix:
    """users x songs: the fit's used songs of half the users, random songs of the others, and
    user 2's song 7 stored as an explicit 0."""
    rng = np.random.default_rng(seed)
    used = ratings(seed).to_csr()[: N_USERS // 2].tocoo()
    extra = sp.coo_matrix(rng.random((N_USERS - N_USERS // 2, N_ITEMS)) < 0.05)
    row = np.r_[used.row, extra.row + N_USERS // 2, 2]
    col = np.r_[used.col, extra.col, 7]
    data = np.r_[np.ones(used.nnz + extra.nnz), 0.0]
    out = sp.csr_matrix((data, (row, col)), shape=(N_USERS, N_ITEMS))
    assert out[2].indices.tolist().count(7) == 1 and out[2, 7] == 0.0
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_exclude_leaves_out_the_songs_given_as_brute_force_does(name: str) -> None:
    model = MODELS[name]().fit(ratings(1))
    exclude = some_songs(1)
    users = np.r_[np.arange(N_USERS), 0, 2]
    for n in (1, 10, N_ITEMS):
        ids, vals = model.recommend(users, n, exclude=exclude)
        want_ids, want_vals = dense_top_n(model, users, n, exclude=exclude)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(vals, want_vals)
        for row, user in enumerate(users):
            assert not set(ids[row]) & set(exclude[user].indices)
    assert 7 not in model.recommend(np.array([2]), N_ITEMS, exclude=exclude)[0]
    default = model.recommend(users, 10)
    np.testing.assert_array_equal(model.recommend(users, 10, exclude=model.used_)[0], default[0])


def test_exclude_must_match_the_fit_and_not_contradict_exclude_used() -> None:
    model = BiasBaseline().fit(ratings(0))
    with pytest.raises(ValueError, match="users x items"):
        model.recommend(np.arange(3), 5, exclude=sp.csr_matrix((N_USERS, N_ITEMS + 1)))
    with pytest.raises(ValueError, match="exclude_used=False"):
        model.recommend(np.arange(3), 5, exclude_used=False, exclude=model.used_)


def test_the_excluded_cells_are_found_whatever_the_columns() -> None:
    rng = np.random.default_rng(0)
    excluded = sp.csr_matrix(rng.random((6, 30)) < 0.3)
    want = excluded.toarray()
    np.testing.assert_array_equal(np.isinf(mask_excluded(np.zeros((6, 30)), excluded)), want)
    songs = np.sort(rng.choice(30, 12, replace=False))
    np.testing.assert_array_equal(
        np.isinf(mask_excluded(np.zeros((6, 12)), excluded, songs)), want[:, songs]
    )
    per_row = np.sort(rng.integers(-1, 30, (6, 9)), axis=1)  # padding and repeats
    hit = np.zeros(per_row.shape, dtype=bool)
    hit[excluded_cells(excluded, per_row)] = True
    for r in range(6):
        first = np.r_[True, per_row[r, 1:] != per_row[r, :-1]] & (per_row[r] >= 0)
        np.testing.assert_array_equal(hit[r], first & want[r, np.maximum(per_row[r], 0)])
    row, song = rng.integers(0, 6, 50), rng.integers(0, 30, 50)
    np.testing.assert_array_equal(excluded_at(excluded, row, song), want[row, song])


@pytest.mark.parametrize("name", ["mf", "item_knn", "knn_baseline", "content", "er_item_knn"])
def test_users_no_level_settles_are_ranked_on_every_song(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MODELS[name]().fit(ratings(3))
    dense_rows = count_dense(monkeypatch, model, blind=True)
    users = np.arange(N_USERS)
    calls = assert_recommend_equals_dense(model, users, dense_top_n, (1, 5), (None,))
    assert sum(dense_rows) == calls * N_USERS


@pytest.mark.parametrize("name", ["item_knn", "knn_baseline", "er_item_knn"])
def test_sparse_scores_rank_like_the_dense_scores_and_mostly_settle(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MODELS[name]().fit(ratings(4))
    dense_rows = count_dense(monkeypatch, model)
    users = np.arange(N_USERS)
    shelf = np.random.default_rng(4).random(N_ITEMS) < 0.3
    calls = assert_recommend_equals_dense(model, users, dense_top_n, (1, 4, 30), (None, shelf))
    assert sum(dense_rows) <= 0.2 * calls * N_USERS


def test_a_user_whose_cells_cover_a_quarter_of_the_songs_is_ranked_densely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scoring their cells pair by pair would cost more than a dense row (user 0 used most
    songs; the neighbours of a few songs are many songs of this small catalogue)."""
    model = MODELS["knn_baseline"]().fit(ratings(5))
    cells = model.ranker().block(np.arange(N_USERS)).cells()
    crowded = np.flatnonzero(np.bincount(cells[0], minlength=N_USERS) > N_ITEMS // 4)
    assert 0 in crowded and crowded.size < N_USERS / 2
    dense_rows = count_dense(monkeypatch, model)
    model.recommend(np.arange(N_USERS), 5, exclude_used=False)
    assert crowded.size <= sum(dense_rows) < N_USERS / 2


@pytest.mark.parametrize("model", [MODELS["svd"](), CovariateAdjusted(ReportSVD(n_factors=3))])
def test_a_model_without_a_ranker_ranks_densely(model: RatingRecommender) -> None:
    model.fit(ratings(6))
    assert model.ranker() is None
    users = np.arange(N_USERS)
    assert_recommend_equals_dense(model, users, dense_top_n, (3,), (None,))


def test_the_global_means_lists_are_the_dense_ones_past_the_first_songs() -> None:
    """GlobalMean ranks a prefix of the songs by code, widened for the users it leaves short:
    here users who used most of the first songs, on a catalogue wider than the prefix."""
    rng = np.random.default_rng(6)
    n_users, n_items = 40, 700
    used = rng.random((n_users, n_items)) < np.where(np.arange(n_items) < 300, 0.02, 0.01)
    used[::3, :250] = True
    user, item = np.nonzero(used)
    model = GlobalMean().fit(Ratings(user, item, rng.normal(size=user.size), n_users, n_items))
    shelf = rng.random(n_items) < 0.5
    users = np.r_[np.arange(n_users), 0]
    calls = assert_recommend_equals_dense(
        model, users, dense_top_n, (1, 10, 80, n_items), (None, shelf)
    )
    assert calls == 16
    ids, _ = model.recommend(np.array([0]), 10)
    assert ids[0].min() >= 250  # user 0 used every song before 250
