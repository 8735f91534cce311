"""ArtistTopics against a dense transcription of its rule, its ranking against a brute-force
ranking of that transcription, and what artists buy an influencer with one reel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.decomposition import NMF

from models_py.recommenders import artist_topics
from models_py.recommenders.artist_topics import TIEBREAK, ArtistTopics
from models_py.recommenders.base import dense_top_n
from models_py.recommenders.data import Ratings
from models_py.recommenders.song_features import artist_codes
from tests.dense_refs import N_ITEMS, N_USERS, all_pairs, assert_same_ranking, small_matrix
from tests.test_estimator_contract import learned, same_state

ARTISTS = np.array([0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, -1, 7])  # song -> artist


def dense_scores(ratings: Ratings, artists: np.ndarray, k: int, smoothing: float) -> np.ndarray:
    """The rule written out on dense arrays: KL-NMF of influencer x artist uses, each song's
    share of its artist's uses, the popularity tie-break."""
    used = np.zeros((ratings.n_users, ratings.n_items))
    used[ratings.user, ratings.item] = 1.0  # any Delta, 0 or below too, is a use
    n_artists = artists.max() + 1
    one_hot = np.zeros((ratings.n_items, n_artists))
    one_hot[np.flatnonzero(artists >= 0), artists[artists >= 0]] = 1.0
    nmf = NMF(k, beta_loss="kullback-leibler", solver="mu", init="nndsvda", max_iter=200)
    w = nmf.set_params(random_state=0).fit_transform(used @ one_hot)
    expected = w @ nmf.components_  # users x artists
    uses = used.sum(axis=0)
    scores = np.zeros_like(used)
    for i, a in enumerate(artists):
        if a >= 0:
            mine = artists == a
            share = (uses[i] + smoothing) / (uses[mine].sum() + smoothing * mine.sum())
            scores[:, i] = expected[:, a] * share
    return scores + TIEBREAK * uses / (uses.max() + 1.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_scores_equal_the_dense_transcription() -> None:
    ratings, _ = small_matrix(4)
    model = ArtistTopics(ARTISTS, n_topics=3, smoothing=0.5).fit(ratings)
    want = dense_scores(ratings, ARTISTS, 3, 0.5)
    u, i = all_pairs(N_USERS, N_ITEMS)
    got = model.predict(u, i, clip=False).reshape(N_USERS, N_ITEMS)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(model._score_block(np.arange(N_USERS)), want, rtol=1e-6)
    assert (got[:, ARTISTS < 0] < 1e-9).all()  # no artist: the tie-break alone


def test_recommend_ranks_the_dense_transcription() -> None:
    ratings, used = small_matrix(6)
    model = ArtistTopics(ARTISTS, n_topics=4).fit(ratings)
    want = dense_scores(ratings, ARTISTS, 4, 0.5)
    users = np.arange(N_USERS)
    for n in (1, 5, N_ITEMS):
        ids, vals = model.recommend(users, n)
        assert_same_ranking(ids, vals, want, used, users)
    shelf = np.arange(N_ITEMS) % 3 != 0
    ids, _ = model.recommend(users, N_ITEMS, candidates=shelf)
    assert not np.isin(ids[ids >= 0], np.flatnonzero(~shelf)).any()


def test_keeps_the_estimator_contract() -> None:
    """test_estimator_contract's checks (its params compare with ==, which an array param
    cannot): parameters stored as given, fit returns self, pure and deterministic."""
    ratings, _ = small_matrix(10)
    model = ArtistTopics(ARTISTS, n_topics=3)
    fresh = clone(model)
    assert fresh.song_artists is not ARTISTS and np.array_equal(fresh.song_artists, ARTISTS)
    assert fresh.fit(ratings) is fresh
    state = learned(fresh)
    assert state and all(k.endswith("_") for k in state)
    u, i = all_pairs(N_USERS, N_ITEMS)
    first = fresh.predict(u, i)
    fresh.recommend(np.arange(N_USERS), 4)
    assert np.array_equal(fresh.predict(u, i), first) and same_state(learned(fresh), state)
    assert np.array_equal(clone(model).fit(ratings).predict(u, i), first)


def two_styles() -> Ratings:
    """Artists 0-4 one style, 5-9 another (two songs each, the first the popular one);
    influencers 0-19 use the first style, 20-39 the second, and influencer 40 has a single
    reel: the second song of artist 1, a song nobody else used."""
    artist_of = np.repeat(np.arange(10), 2)
    rng = np.random.default_rng(0)
    user, item = [], []
    for u in range(40):
        style = 0 if u < 20 else 1
        popular = np.flatnonzero((artist_of // 5 == style) & (np.arange(20) % 2 == 0))
        for i in rng.choice(popular, 3, replace=False):
            user.append(u)
            item.append(i)
    user.append(40)
    item.append(3)
    return Ratings(np.array(user), np.array(item), np.ones(len(user)), 41, 20)


def test_one_tail_reel_brings_its_artists_style() -> None:
    ratings = two_styles()
    model = ArtistTopics(np.repeat(np.arange(10), 2), n_topics=2).fit(ratings)
    ids, _ = model.recommend(np.array([40]), 5)
    # Co-usage knows nothing of song 3 (used once); its artist places the influencer.
    assert set(ids[0]) == {0, 2, 4, 6, 8}  # the popular songs of artists 0-4


def test_an_influencer_with_no_use_gets_the_most_used_songs() -> None:
    ratings = two_styles()
    model = ArtistTopics(np.repeat(np.arange(10), 2), n_topics=2).fit(
        ratings.subset(ratings.user < 40)
    )
    ids, _ = model.recommend(np.array([40]), 3)
    uses = np.bincount(ratings.item[ratings.user < 40], minlength=20)
    order = np.lexsort((np.arange(20), -uses))
    assert list(ids[0]) == list(order[:3])


def test_needs_artists_and_sane_parameters() -> None:
    ratings, _ = small_matrix(1)
    with pytest.raises(ValueError, match="song_artists"):
        ArtistTopics().fit(ratings)
    with pytest.raises(ValueError, match="n_topics"):
        ArtistTopics(ARTISTS, n_topics=0).fit(ratings)


def test_artist_codes_compare_names_as_the_features_do() -> None:
    codes = artist_codes(pd.Series(["Nirvana ", "nirvana", "", None, "Blur"]))
    assert codes[0] == codes[1] != codes[4]
    assert (codes[2:4] == -1).all() and codes[4] >= 0


def many_artists() -> tuple[Ratings, np.ndarray]:
    """60 songs of 25 artists (sizes 1-4) and 6 with none, 80 influencers of two styles."""
    rng = np.random.default_rng(3)
    artists = np.r_[np.repeat(np.arange(25), [1, 2, 3, 4, 2] * 5)[:54], np.full(6, -1)]
    style = np.where(artists >= 0, artists % 2, 2)
    user, item = [], []
    for u in range(80):
        pool = np.flatnonzero(style == u % 2)
        for i in rng.choice(pool, rng.integers(1, 6), replace=False):
            user.append(u)
            item.append(i)
    return Ratings(np.array(user), np.array(item), np.ones(len(user)), 80, 60), artists


def densely_scored_rows(
    monkeypatch: pytest.MonkeyPatch, model: ArtistTopics, users: np.ndarray, ns: tuple[int, ...]
) -> int:
    """Asserts the pruned top-n lists equal the dense ranking for each n; returns how many
    users' rows the pruned ranking had to score densely."""
    scored = []
    dense_scores_of = ArtistTopics._score_block

    def counted(self: ArtistTopics, block: np.ndarray) -> np.ndarray:
        scored.append(block.size)
        return dense_scores_of(self, block)

    for n in ns:
        want_ids, want_vals = dense_top_n(model, users, n)
        with monkeypatch.context() as patch:
            patch.setattr(ArtistTopics, "_score_block", counted)
            ids, vals = model.recommend(users, n)
        assert (ids == want_ids).all()
        np.testing.assert_allclose(vals, want_vals, rtol=1e-12)
    return sum(scored)


def test_the_pruned_ranking_is_the_dense_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    ratings, artists = many_artists()
    model = ArtistTopics(artists, n_topics=2).fit(ratings)
    # Most lists came from the best artists' songs alone.
    assert densely_scored_rows(monkeypatch, model, np.arange(80), (1, 3)) < 80


def big_catalogues() -> tuple[Ratings, np.ndarray]:
    """200 songs: artists 0 and 1 with 70 and 50 songs, 40 of 2; 120 influencers, most of
    them using the big artists' most used songs (which they then cannot be recommended: the
    artist's cut must reach past them)."""
    rng = np.random.default_rng(5)
    artists = np.r_[np.zeros(70), np.ones(50), np.repeat(np.arange(2, 42), 2)].astype(int)
    weights = np.r_[np.linspace(3, 0.1, 70), np.linspace(3, 0.1, 50), np.full(80, 0.5)]
    user, item = [], []
    for u in range(120):
        pool = np.flatnonzero(artists == u % 3) if u % 3 < 2 else np.flatnonzero(artists >= 2)
        p = weights[pool] / weights[pool].sum()
        for i in rng.choice(pool, rng.integers(1, 12), replace=False, p=p):
            user.append(u)
            item.append(i)
    return Ratings(np.array(user), np.array(item), np.ones(len(user)), 120, 200), artists


@pytest.mark.parametrize("slack", [0, 8])
def test_the_ranking_scores_a_few_songs_of_each_big_artist_and_is_exact(
    monkeypatch: pytest.MonkeyPatch, slack: int
) -> None:
    monkeypatch.setattr(artist_topics, "SONG_SLACK", slack)
    ratings, artists = big_catalogues()
    model = ArtistTopics(artists, n_topics=3).fit(ratings)
    users = np.arange(120)
    for n in (1, 3, 10):
        songs, left_out = model._best_songs(np.array([0, 1]), n + slack)
        assert songs.size == 2 * (n + slack) and (left_out > 0).all()  # the cut binds
    # Some lists came from the cut catalogues alone.
    assert densely_scored_rows(monkeypatch, model, users, (1, 3, 10)) < 3 * 120
    # The bound the cut relies on: no song left out scores above S_ua x the first left-out
    # share (plus the tie-break's ceiling).
    dense = model._score_block(users)
    songs, left_out = model._best_songs(np.array([0, 1]), 3 + slack)
    by_artist = model.user_topics_ @ model.topic_artists_[:, :2]
    for artist in (0, 1):
        out = np.setdiff1d(np.flatnonzero(artists == artist), songs)
        bound = by_artist[:, artist] * left_out[artist] + TIEBREAK
        assert (dense[:, out] <= bound[:, None]).all()
        assert np.isclose(dense[:, out].max(axis=1), bound, rtol=1e-6, atol=2 * TIEBREAK).any()


def test_equal_topic_fits_are_made_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """artist_topics and the two-stage ranker's candidates fit the same topics on the same
    reels; the runner puts them in one job and kl_topics fits once."""
    from models_py.recommenders import artist_topics as module

    calls = []
    real = module._kl_topics
    monkeypatch.setattr(module, "_kl_topics", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(module, "_FITTED", type(module._FITTED)())
    counts = sp.random(40, 9, density=0.3, random_state=1, format="csr")
    first = module.kl_topics(counts, 3, 50, 0)
    first[0][:] = -1.0  # the caller owns its copy
    again = module.kl_topics(counts, 3, 50, 0)
    assert len(calls) == 1 and (again[0] >= 0).all()
    module.kl_topics(counts, 4, 50, 0)
    assert len(calls) == 2


def test_artist_topics_and_the_two_stage_ranker_share_a_job() -> None:
    from models_py.scoring.registry import MODELS
    from models_py.scoring.schedule import jobs_of

    specs = list(MODELS)
    jobs = jobs_of(specs, list(range(len(specs) + 1)))
    names = [[specs[i].method if i < len(specs) else "new" for i in job] for job in jobs]
    assert ["artist_topics", "two_stage"] in names
    assert sorted(m for job in names for m in job) == sorted([s.method for s in specs] + ["new"])
    assert all(len(job) == 1 for job in names if "artist_topics" not in job)
