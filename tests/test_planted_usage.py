"""The planted usage model (models_py/synth/usage.py) and the oracle that ranks by it: taste
decides which songs are used, so the oracle's lists beat popularity's on held-out reels, while
the songs-per-influencer counts stay exactly as planted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from models_py.recommenders import Ratings
from models_py.recommenders.base import dense_top_n
from models_py.synth.generate import generate
from models_py.synth.oracle import PlantedModel
from models_py.synth.settings import ModelParams
from models_py.synth.songs import song_catalogue
from models_py.synth.usage import genre_mass, genre_offsets, sample_pairs, usage_model
from tests.ranking_checks import assert_recommend_equals_dense

K = 10


def average_precision(top: np.ndarray, relevant: list[set[int]]) -> float:
    """MAP@k as dbt_project/macros/metrics.sql defines it, over users with a relevant song."""
    aps = []
    for row, rel in zip(top, relevant, strict=True):
        if not rel:
            continue
        hit = np.isin(row, list(rel))
        precision = np.cumsum(hit) / np.arange(1, row.size + 1)
        aps.append(float((precision * hit).sum()) / min(row.size, len(rel)))
    return float(np.mean(aps))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """Small generated data (a few thousand reels), the clean rows split 75:25."""
    out = tmp_path_factory.mktemp("usage")
    generate(out, seed=11, n_influencers=1_500, n_celebrities=300, n_songs=1_500, fmt="parquet")
    rows = pd.read_parquet(out / "truth" / "rows.parquet")
    rows = rows[rows["expected_rule"].isna() & rows["delta"].notna()]
    user, users = pd.factorize(rows["influencer_id"])
    item, items = pd.factorize(rows["song_id"])
    ratings = Ratings(user, item, rows["delta"].to_numpy(float), len(users), len(items))
    train, test = ratings.split(0.25, seed=0)
    return train, test, out / "truth", pd.Index(users), pd.Index(items)


def test_oracle_ranks_used_songs_above_popularity(planted: tuple) -> None:
    train, test, truth, users, items = planted
    relevant: list[set[int]] = [set() for _ in range(train.n_users)]
    for u, i in zip(test.user.tolist(), test.item.tolist(), strict=True):
        relevant[u].add(i)
    lifted: list[set[int]] = [set() for _ in range(train.n_users)]
    for u, i, d in zip(test.user.tolist(), test.item.tolist(), test.rating, strict=True):
        if d > 0:
            lifted[u].add(i)
    codes = np.arange(train.n_users)
    used = train.to_csr()
    counts = np.bincount(train.item, minlength=train.n_items).astype(float)
    popularity = np.where(
        used.toarray() > 0, -np.inf, counts[None, :] - 1e-9 * np.arange(counts.size)
    )
    by_popularity = np.argsort(-popularity, axis=1, kind="stable")[:, :K]

    def oracle(ranking: str) -> PlantedModel:
        model = PlantedModel(
            truth_dir=str(truth),
            influencer_ids=users.to_numpy(),
            song_ids=items.to_numpy(),
            ranking=ranking,
        )
        return model.fit(train)

    by_usage = oracle("used").recommend(codes, K)[0]
    assert average_precision(by_usage, relevant) > average_precision(by_popularity, relevant)
    # Ranking by predicted Delta alone ignores usage; P(used and lifted) does not.
    by_lift, by_delta = (
        oracle("lifted").recommend(codes, K)[0],
        oracle("delta").recommend(codes, K)[0],
    )
    assert average_precision(by_lift, lifted) > average_precision(by_delta, lifted)


def test_oracle_beats_the_best_usage_ranker_which_beats_popularity(planted: tuple) -> None:
    """The issue's order on planted-taste data: what the planted model knows, then what the
    usage rankers learn from ~6 reels per influencer, then popularity."""
    from models_py.recommenders import ItemKNN
    from models_py.recommenders.als import ImplicitALS
    from models_py.recommenders.baselines import MostUsed
    from models_py.recommenders.ease import EASE

    train, test, truth, users, items = planted
    relevant: list[set[int]] = [set() for _ in range(train.n_users)]
    for u, i in zip(test.user.tolist(), test.item.tolist(), strict=True):
        relevant[u].add(i)
    codes = np.arange(train.n_users)

    def judged(model) -> float:
        return average_precision(model.fit(train).recommend(codes, K)[0], relevant)

    oracle = PlantedModel(str(truth), users.to_numpy(), items.to_numpy(), ranking="used")
    usage = {
        "ease": EASE(reg=100.0),
        "als": ImplicitALS(n_factors=16, alpha=40.0, random_state=0),
        "item_knn_bm25": ItemKNN(n_neighbors=50, weighting="bm25"),
    }
    best_usage = max(judged(model) for model in usage.values())
    assert judged(oracle) > best_usage > judged(MostUsed())


def test_oracle_predicts_the_planted_delta_whatever_it_ranks_by(planted: tuple) -> None:
    train, test, truth, users, items = planted
    predictions = [
        PlantedModel(str(truth), users.to_numpy(), items.to_numpy(), ranking=r)
        .fit(train)
        .predict(test.user, test.item, clip=False)
        for r in ("lifted", "used", "delta")
    ]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(predictions[0], predictions[2])


@pytest.mark.parametrize(
    ("ranking", "include_factors"), [("lifted", True), ("used", True), ("delta", False)]
)
def test_oracle_lists_are_the_dense_rankings(
    planted: tuple, ranking: str, include_factors: bool
) -> None:
    """The lifted ranking scores its costly term only where a song can make the list, and the
    biases alone rank separably: both must list exactly what scoring every song lists."""
    train, _, truth, users, items = planted
    model = PlantedModel(
        str(truth), users.to_numpy(), items.to_numpy(), include_factors, ranking
    ).fit(train)
    shelf = np.random.default_rng(3).random(train.n_items) < 0.2
    codes = np.r_[np.arange(0, train.n_users, 7), 0]
    calls = assert_recommend_equals_dense(model, codes, dense_top_n, [1, K, 300], [None, shelf])
    assert calls == 12


@pytest.fixture(scope="module")
def world() -> tuple[dict, np.ndarray, ModelParams]:
    """Songs and influencer taste with a sharp taste and heavy users near the cap."""
    model = replace(ModelParams(), genre_alpha=80.0)
    rng = np.random.default_rng(3)
    songs = song_catalogue(rng, 600, model, 0.0)
    wanted = rng.integers(1, 12, 3_000)
    wanted[::97] = 200  # a third of the catalogue: redraws must still find them all
    return songs, wanted, model


def test_usage_keeps_songs_per_user_exact_and_distinct(world: tuple) -> None:
    songs, wanted, model = world
    factors = np.random.default_rng(4).normal(0, model.user_factor_sd, (wanted.size, model.k))
    usage = usage_model(songs, factors, wanted, model)
    user, song = sample_pairs(np.random.default_rng(5), wanted, usage, 5)
    np.testing.assert_array_equal(np.bincount(user, minlength=wanted.size), wanted)
    pairs = user.astype(np.int64) * songs["popularity"].size + song
    assert np.unique(pairs).size == pairs.size
    # Taste decides usage: the genre each influencer likes best is used more than the rest.
    favourite = usage.genre_logits(np.arange(wanted.size)).argmax(axis=1)
    assert (songs["genre"][song] == favourite[user]).mean() > 1 / model.n_genres * 3


def test_genre_offsets_keep_each_genres_share_of_uses(world: tuple) -> None:
    songs, wanted, model = world
    mass = genre_mass(songs["genre"], songs["popularity"], model.n_genres)
    taste = np.random.default_rng(6).normal(0, 3, (wanted.size, model.n_genres))
    offset = genre_offsets(mass, taste, wanted.astype(float), iterations=200)
    logit = taste + offset
    weight = np.exp(logit - logit.max(axis=1, keepdims=True))
    weight /= weight.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(wanted @ weight / wanted.sum(), mass / mass.sum(), rtol=1e-6)
