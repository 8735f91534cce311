"""HybridRecommender: its weight tuned to the better component, and every weight ranked at once as
each is ranked alone."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from models_py.recommenders.baselines import BiasBaseline
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.hybrid import HybridRecommender
from models_py.recommenders.song_features import song_features
from models_py.recommenders.tuning import map_at_k, tune_ranking
from tests.six_songs import SONGS


@pytest.fixture()
def features() -> sp.csr_matrix:
    return song_features(SONGS)


def test_hybrid_weight_tuning_picks_the_better_component(features: sp.csr_matrix) -> None:
    """Constructed so that content is right and the usage model (song biases) is wrong:
    every influencer lifts with artist Ayla's songs; Bo's songs have high average lift only
    because the few who used them are high-lift accounts."""
    rng = np.random.default_rng(0)
    ayla, bo = np.array([0, 1, 4]), np.array([2, 3])
    rows = []
    for user in range(60):
        if user < 10:  # big lifters using Bo: song biases favour Bo
            for s in bo:
                rows.append((user, int(s), 6.0))
        else:
            used = rng.choice(ayla, size=2, replace=False)
            rows += [(user, int(used[0]), 1.0), (user, int(used[1]), 1.0)]
    fit = Ratings(*(np.array(c) for c in zip(*rows, strict=True)), 60, len(SONGS))
    hybrid = HybridRecommender(
        usage=BiasBaseline(reg_item=0.0), content=ContentRecommender(song_features=features)
    )
    best, table, _ = tune_ranking(hybrid, {"weight": [0.0, 0.5, 1.0]}, fit, k=2)
    scores = dict((p["weight"], v) for p, v in table)
    assert best["weight"] > 0.0 and scores[best["weight"]] > scores[0.0]
    # And the other way round: when content carries nothing (every song alike), the usage
    # model's song biases win. Song 1 lifts for the 20 who use it; songs 2-4 are used more
    # (content's tie-break) but never lift.
    flat = song_features(
        SONGS.assign(artist_name="Same", release_year=1990, title="t", release_name="")
    )
    rows = [(u, 1, 3.0) for u in range(20)]
    rows += [(u, 2 + (u + j) % 3, -1.0) for u in range(60) for j in (0, 1)]
    fit2 = Ratings(*(np.array(c) for c in zip(*rows, strict=True)), 60, len(SONGS))
    hybrid2 = HybridRecommender(
        usage=BiasBaseline(), content=ContentRecommender(song_features=flat)
    )
    best2, table2, _ = tune_ranking(
        hybrid2, {"weight": [1.0, 0.0]}, fit2, k=1, validation_fraction=0.3
    )
    assert best2["weight"] == 0.0 and table2[1][1] > table2[0][1]


def test_hybrid_ranks_every_weight_at_once_as_it_ranks_each(monkeypatch) -> None:
    """recommend_each (the tuning path: each block's components computed once) gives the lists
    recommend() gives at each weight, across several blocks no larger than a mix's (whatever
    weight the lone components left set), and leaves the last weight set; tune_ranking's table
    equals judging each weight on its own."""
    from models_py.recommenders import topn

    rng = np.random.default_rng(5)
    n_users, n_songs = 90, len(SONGS)
    cells = rng.choice(n_users * n_songs, 300, replace=False)  # distinct (user, song)
    users, songs = cells // n_songs, cells % n_songs
    fit = Ratings(users, songs, rng.normal(0, 2, cells.size), n_users, n_songs)
    features = song_features(SONGS)
    hybrid = HybridRecommender(
        usage=BiasBaseline(), content=ContentRecommender(song_features=features)
    ).fit(fit)
    monkeypatch.setattr(topn, "MAX_BLOCK_CELLS", 7 * n_songs)  # blocks of 7 users
    grid = [{"weight": w} for w in (0.25, 0.0, 0.5, 1.0, 0.75)]
    who = np.arange(n_users)
    blocks: list[int] = []
    score_usage = hybrid.usage_._score_block
    monkeypatch.setattr(
        hybrid.usage_, "_score_block", lambda u: blocks.append(u.size) or score_usage(u)
    )
    ranked = hybrid.recommend_each(who, 3, grid)
    assert max(blocks) == 7 and sum(blocks) == n_users  # the mixes' blocks, each scored once
    monkeypatch.undo()
    monkeypatch.setattr(topn, "MAX_BLOCK_CELLS", 7 * n_songs)
    assert hybrid.weight == 0.75
    for params, (ids, vals) in zip(grid, ranked, strict=True):
        want_ids, want_vals = hybrid.set_params(**params).recommend(who, 3)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(vals, want_vals)
    best, table, _ = tune_ranking(hybrid, {"weight": [0.0, 0.5, 1.0]}, fit, k=3)
    train, valid = fit.split(0.1, 0)
    alone = clone(hybrid).fit(train)
    expected = [map_at_k(alone.set_params(weight=w), valid, 3) for w in (0.0, 0.5, 1.0)]
    assert [v for _, v in table] == expected and len(set(expected)) > 1


def test_hybrid_predicts_er_biased_mf_delta_on_any_data() -> None:
    """Issue 18, item 8: the hybrid's predicted Delta was documented as er_biased_mf's, but its
    usage model was fixed at the setting er_biased_mf tunes to on the default data. On data
    where er_biased_mf tunes otherwise (here, low noise: less regularisation), they differ
    unless the hybrid's usage model is tuned the same way."""
    import pandas as pd

    from models_py.scoring.data import ScoringData
    from models_py.scoring.fitting import fit_model
    from models_py.scoring.registry import MODELS

    rng = np.random.default_rng(0)
    n_u, n_i = 120, 60
    p, q = rng.normal(size=(n_u, 3)), rng.normal(size=(n_i, 3))
    b_u, b_i = rng.normal(scale=2, size=n_u), rng.normal(scale=2, size=n_i)
    u, i = np.nonzero(rng.random((n_u, n_i)) < 0.35)
    r = 1 + b_u[u] + b_i[i] + (p[u] * q[i]).sum(axis=1) + rng.normal(scale=0.1, size=u.size)
    ratings = Ratings(u.astype(np.int32), i.astype(np.int32), r, n_u, n_i)
    songs = pd.DataFrame(
        {"title": [f"t{k}" for k in range(n_i)], "release_name": None,
         "artist_name": [f"a{k % 7}" for k in range(n_i)],
         "release_year": 1990 + np.arange(n_i) % 30}
    )  # fmt: skip
    data = ScoringData(
        np.arange(n_u).astype(str), np.arange(n_i).astype(str), ratings, ratings, ratings,
        rng.normal(size=n_u), pd.DataFrame({"user": [], "item": [], "split": []}),
        song_features(songs),
    )  # fmt: skip
    specs = {spec.method: spec for spec in MODELS}
    fitted = fit_model(specs["er_biased_mf"], data, ratings)
    usage, params = fitted.model, fitted.params
    assert (params["estimator__reg"], params["estimator__reg_user_bias"]) != (40.0, 15.0)
    for blend in ("hybrid", "two_stage"):  # both take their predicted Delta from it
        mixed = fit_model(specs[blend], data, ratings).model
        np.testing.assert_array_equal(mixed.predict(u, i), usage.predict(u, i))
