"""ContentRecommender: lift-weighted profiles, rankings, explanations, songs nobody used, and
real signal on new songs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from models_py.recommenders.content import ContentRecommender, lift_weights
from models_py.recommenders.data import Ratings
from models_py.recommenders.song_features import song_features
from models_py.recommenders.tuning import map_at_k
from tests.six_songs import SONGS, ratings


@pytest.fixture()
def features() -> sp.csr_matrix:
    return song_features(SONGS)


def test_profile_is_the_lift_weighted_mean_of_used_songs(features: sp.csr_matrix) -> None:
    fit = ratings([(0, 0, 3.0), (0, 2, 1.0)])
    model = ContentRecommender(song_features=features, lift_temperature=2.0).fit(fit)
    w = np.exp(np.array([3.0, 1.0]) / 2.0)
    w /= w.sum()
    expected = w[0] * features[0].toarray() + w[1] * features[2].toarray()
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(model.profiles_[0].toarray(), expected)
    # Softmax within the influencer: shifting every lift (their usual ER) changes nothing.
    shifted = ratings([(0, 0, -7.0), (0, 2, -9.0)])
    np.testing.assert_allclose(
        lift_weights(shifted.to_csr(), 2.0).toarray(), lift_weights(fit.to_csr(), 2.0).toarray()
    )


def test_used_songs_are_excluded_and_closest_unused_come_first(features: sp.csr_matrix) -> None:
    model = ContentRecommender(song_features=features).fit(ratings([(0, 0, 2.0), (1, 2, 1.0)]))
    ids, _ = model.recommend(np.array([0, 1]), 3)
    assert 0 not in ids[0] and 2 not in ids[1]
    assert ids[0, 0] == 1  # Ayla, 1980s, same album as what they used
    assert ids[1, 0] == 3  # Bo's other song


def test_lift_decides_between_two_used_artists(features: sp.csr_matrix) -> None:
    # Ayla's song lifted, Bo's did not: Ayla's other song ranks above Bo's other song.
    model = ContentRecommender(song_features=features, lift_temperature=1.0)
    ids, _ = model.fit(ratings([(0, 0, 4.0), (0, 2, -2.0)])).recommend(np.array([0]), 4)
    assert list(ids[0]).index(1) < list(ids[0]).index(3)
    flipped = model.fit(ratings([(0, 0, -2.0), (0, 2, 4.0)])).recommend(np.array([0]), 4)[0]
    assert flipped[0, 0] == 3 and list(flipped[0]).index(3) < list(flipped[0]).index(1)


def test_explanation_is_the_used_song_behind_the_pick(features: sp.csr_matrix) -> None:
    model = ContentRecommender(song_features=features).fit(ratings([(0, 0, 1.0), (0, 3, 1.0)]))
    because = model.because(np.array([0, 0, 0]), np.array([1, 2, 5]))
    assert list(because[:2]) == [0, 3]  # Ayla's pick from Ayla's song, Bo's from Bo's
    # Song 5 shares only the word "blue" with song 0.
    assert because[2] == 0
    none_used = model.because(np.array([1]), np.array([1]))
    assert none_used[0] == -1


def test_songs_nobody_used_are_recommendable(features: sp.csr_matrix) -> None:
    # Nobody used songs 1, 3, 4, 5; ranking only them still follows content.
    fit = ratings([(0, 0, 1.0), (1, 2, 1.0), (2, 0, 1.0), (2, 2, 1.0)])
    model = ContentRecommender(song_features=features).fit(fit)
    cold = np.zeros(len(SONGS), dtype=bool)
    cold[[1, 3, 4, 5]] = True
    ids, scores = model.recommend(np.array([0, 1]), 2, candidates=cold)
    assert set(ids.ravel()) <= {1, 3, 4, 5} and np.isfinite(scores).all()
    assert ids[0, 0] == 1 and ids[1, 0] == 3
    # Scoring only the candidate columns gives what masking the full ranking gives.
    full_ids, full_scores = generic_recommend(model, np.arange(3), 4, cold)
    np.testing.assert_array_equal(model.recommend(np.arange(3), 4, candidates=cold)[0], full_ids)
    np.testing.assert_allclose(model.recommend(np.arange(3), 4, candidates=cold)[1], full_scores)
    used_cold = ContentRecommender(song_features=features).fit(ratings([(0, 1, 1.0)]))
    assert 1 not in used_cold.recommend(np.array([0]), 4, candidates=cold)[0]


def generic_recommend(  # brute force: score everything, then mask
    model: ContentRecommender, users: np.ndarray, n: int, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from models_py.recommenders.base import dense_top_n

    return dense_top_n(model, users, n, True, candidates)


def test_content_beats_chance_on_new_songs() -> None:
    """The planted truth lets metadata carry real signal: on songs nobody has used yet,
    content's MAP@10 is well above chance (random orderings of the same shelf)."""
    from models_py.synth.dirt import DIRT_BIT
    from models_py.synth.simulate import simulate

    planted = simulate(seed=3, n_influencers=2500, n_celebrities=500, n_songs=2500)
    rows, songs = planted.rows, planted.songs
    keep = (rows["bits"] & DIRT_BIT["duplicate_url_song"]) == 0
    user, song, delta = rows["user"][keep], rows["song"][keep], rows["delta"][keep]
    n_users, n_songs = planted.inf["factors"].shape[0], songs["id"].size
    meta = pd.DataFrame(
        {
            "title": songs["title"].astype(object),
            "release_name": songs["release"].astype(object),
            "artist_name": songs["artist_name"].astype(object),
            "release_year": songs["year"],
        }
    )
    rng = np.random.default_rng(0)
    cold = rng.random(n_songs) < 0.1
    seen = ~cold[song]
    train = Ratings(user[seen], song[seen].astype(np.int32), delta[seen], n_users, n_songs)
    test = Ratings(user[~seen], song[~seen].astype(np.int32), delta[~seen], n_users, n_songs)
    model = ContentRecommender(song_features=song_features(meta)).fit(train)

    class Shelf:  # rank only the new songs
        def __init__(self, order: np.ndarray | None = None) -> None:
            self.order = order

        def recommend(self, users: np.ndarray, k: int, exclude_used: bool = True) -> tuple:
            if self.order is None:
                return model.recommend(users, k, exclude_used, candidates=cold)
            return np.tile(self.order[:k], (users.size, 1)).astype(np.int32), None

    content = map_at_k(Shelf(), test, 10, min_rating=None)
    chance = np.mean(
        [
            map_at_k(Shelf(rng.permutation(np.flatnonzero(cold))), test, 10, min_rating=None)
            for _ in range(20)
        ]
    )
    assert content > 2 * chance, (content, chance)


def test_explanations_do_not_depend_on_how_many_pairs_are_compared_at_once(monkeypatch) -> None:
    """`because` compares picks with used songs a chunk of pairs at a time (a whole large serve
    at once would hold every pair): any chunking gives the same answer."""
    from models_py.recommenders import content

    rng = np.random.default_rng(11)
    n_users, n_songs = 60, len(SONGS)
    cells = rng.choice(n_users * n_songs, 150, replace=False)
    users, songs = cells // n_songs, cells % n_songs
    fit = Ratings(users, songs, rng.normal(0, 2, cells.size), n_users, n_songs)
    model = ContentRecommender(song_features=song_features(SONGS)).fit(fit)
    ids, _ = model.recommend(np.arange(n_users), 4)  # -1 where a user has fewer unused songs
    who = np.repeat(np.arange(n_users), 4)
    whole = model.because(who, ids.ravel())
    monkeypatch.setattr(content, "BECAUSE_PAIRS", 2)
    assert (model.because(who, ids.ravel()) == whole).all()
    assert (whole >= 0).any() and (whole == -1).any() and (ids == -1).any()
