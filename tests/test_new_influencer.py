"""SimilarInfluencers, the lists for a new influencer: bio neighbours of the same tier, the bio
weight tuned on known influencers, and lists that do not depend on the block size."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.new_influencer import SimilarInfluencers


def test_new_influencer_uses_bio_neighbours_of_the_same_tier() -> None:
    # Known: two nano dancers use song 0, two nano cooks use song 1, a celebrity dancer song 2.
    used = sp.csr_matrix(
        np.array([[1, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    )
    bios = np.array(
        ["dancer mumbai", "dancer pune", "cook recipes", "cook recipes mumbai", "dancer star"],
        dtype=object,
    )
    tiers = np.array(["nano", "nano", "nano", "nano", "celebrity"], dtype=object)
    model = SimilarInfluencers(n_neighbors=2, prior_strengths=(0.5,)).fit(used, bios, tiers)
    ids, _, n = model.recommend(
        np.array(["dancer", "cook", ""], dtype=object), np.array(["nano"] * 3, dtype=object), 1
    )
    assert ids[0, 0] == 0 and ids[1, 0] == 1  # never song 2: other tier
    # No bio: tier popularity exactly (song 3 and 0, 1 tie at 2/4: lowest code first).
    assert n[2] == 0 and ids[2, 0] == 0
    np.testing.assert_allclose(model.prior("nano"), [0.5, 0.5, 0.0, 0.5])


def test_bio_weight_is_tuned_on_influencers_playing_new_ones() -> None:
    """Bios that tell taste apart earn a weak prior; the choice is made on held-out peers."""
    rng = np.random.default_rng(1)
    n = 300
    dancer = np.arange(n) % 2 == 0
    rows = np.repeat(np.arange(n), 3)
    cols = np.where(dancer[rows], 0, 10) + rng.integers(0, 10, rows.size)
    used = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, 20))
    used.data[:] = 1.0
    bios = np.where(dancer, "dancer moves", "cook recipes").astype(object)
    tiers = np.full(n, "nano", dtype=object)
    model = SimilarInfluencers(n_neighbors=20).fit(used, bios, tiers)
    scores = model.validation_scores_
    assert model.prior_strength_ < 1000.0 and scores[model.prior_strength_] > scores[1000.0]


def test_new_influencer_lists_do_not_depend_on_the_block_size(monkeypatch) -> None:
    """Scored a block of new influencers at a time: one influencer per block gives the same
    lists, scores and neighbour counts as every influencer at once, at every prior strength."""
    from models_py.recommenders import topn

    rng = np.random.default_rng(7)
    n, n_songs = 400, 60
    words = np.array(["dance", "cook", "travel", "fit", "music", "art", "food", "style"])
    bios = np.array([" ".join(rng.choice(words, 3)) for _ in range(n)], dtype=object)
    bios[::17] = ""  # some without a bio: tier popularity alone
    tiers = rng.choice(np.array(["nano", "micro", "celebrity"], dtype=object), n)
    rows = np.repeat(np.arange(n), 4)
    used = sp.csr_matrix((np.ones(rows.size), (rows, rng.integers(0, n_songs, rows.size))))
    new_bios, new_tiers = bios[:50], tiers[:50]
    strengths = (1.0, 20.0)
    whole = SimilarInfluencers(n_neighbors=10).fit(used[50:], bios[50:], tiers[50:])
    expected = whole._recommend_each(new_bios, new_tiers, 10, strengths)
    monkeypatch.setattr(topn, "MAX_BLOCK_CELLS", 1)  # one new influencer per block
    got = whole._recommend_each(new_bios, new_tiers, 10, strengths)
    for m in strengths:
        for want, have in zip(expected[m], got[m], strict=True):
            np.testing.assert_array_equal(want, have)
    # recommend() is the same at the fitted strength, and agrees with scores().
    ids, vals, _ = whole.recommend(new_bios, new_tiers, 10)
    scores, _ = whole.scores(new_bios, new_tiers)
    top = np.take_along_axis(scores, np.maximum(ids, 0), axis=1)
    np.testing.assert_allclose(np.where(ids >= 0, top, np.nan), vals)
    assert (ids >= 0).all(axis=1).any()


def test_new_influencer_lists_are_the_dense_ranking_of_their_scores(monkeypatch) -> None:
    """Lists come from each new influencer's voted songs and the songs of highest prior, with
    a dense fallback for rows that cannot be sure: the same lists and scores as ranking every
    song's score (scores <= 0 left out), with no slack at all too (every row unsure)."""
    from models_py.recommenders import new_influencer
    from models_py.recommenders.topn import top_n

    rng = np.random.default_rng(3)
    n, n_songs = 600, 400
    words = np.array(["dance", "cook", "travel", "fit", "music", "art", "food", "style"])
    bios = np.array([" ".join(rng.choice(words, 2)) for _ in range(n)], dtype=object)
    bios[::13] = ""
    tiers = rng.choice(np.array(["nano", "micro"], dtype=object), n)
    rows = np.repeat(np.arange(n), 5)
    songs = (rng.pareto(1.0, rows.size) * 20).astype(int) % n_songs
    used = sp.csr_matrix((np.ones(rows.size), (rows, songs)), shape=(n, n_songs))
    model = SimilarInfluencers(n_neighbors=15, prior_strengths=(3.0,)).fit(used, bios, tiers)
    new_bios, new_tiers = bios[:120], tiers[:120]
    scores, _ = model.scores(new_bios, new_tiers)
    scores[scores <= 0] = -np.inf
    for slack in (new_influencer.PRIOR_SLACK, 0):
        monkeypatch.setattr(new_influencer, "PRIOR_SLACK", slack)
        for k in (1, 10):
            ids, vals, _ = model.recommend(new_bios, new_tiers, k)
            want_ids, want_vals = top_n(scores.copy(), k)
            np.testing.assert_array_equal(ids, want_ids)
            np.testing.assert_array_equal(vals, want_vals)
