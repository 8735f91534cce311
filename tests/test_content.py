"""Content-based recommendations, the hybrid, new influencers and the cold-start evaluation."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from models_py.cli.commands import main
from models_py.recommenders.baselines import BiasBaseline
from models_py.recommenders.content import ContentRecommender, lift_weights
from models_py.recommenders.data import Ratings
from models_py.recommenders.hybrid import HybridRecommender
from models_py.recommenders.new_influencer import SimilarInfluencers
from models_py.recommenders.song_features import song_features, top_k_neighbours
from models_py.recommenders.tuning import map_at_k, tune_ranking
from tests.conftest import Built

# Six songs: two by artist "Ayla" (1980s), two by "Bo" (2000s), one "Ayla" with no year, one
# by "Cy" sharing only a title word with song 0.
SONGS = pd.DataFrame(
    {
        "title": ["Blue Moon", "Red River", "Neon Rain", "Cold Fire", "Green Hill", "Blue Horizon"],
        "release_name": ["First", "First", "Later", "Later", None, "Other"],
        "artist_name": ["Ayla", "Ayla", "Bo", "Bo", "Ayla", "Cy"],
        "release_year": [1984, 1988, 2003, 2005, 0, 1960],
    }
)


@pytest.fixture()
def features() -> sp.csr_matrix:
    return song_features(SONGS)


def ratings(rows: list[tuple[int, int, float]], n_users: int = 3) -> Ratings:
    u, i, r = (np.array(x) for x in zip(*rows, strict=True))
    return Ratings(u.astype(np.int32), i.astype(np.int32), r.astype(float), n_users, len(SONGS))


def test_features_are_unit_rows_and_same_artist_is_closest(features: sp.csr_matrix) -> None:
    assert sp.issparse(features) and features.shape[0] == len(SONGS)
    np.testing.assert_allclose(sp.linalg.norm(features, axis=1), 1.0)
    sim = (features @ features.T).toarray()
    # Song 1 (Ayla, 1980s, same album) is song 0's closest; Bo's songs share nothing with it.
    assert np.argmax(np.where(np.arange(6) == 0, -1, sim[0])) == 1
    assert sim[0, 2] == 0 and sim[0, 3] == 0
    # An unknown year is no shared feature: song 4 is close to 0 only through the artist.
    assert 0 < sim[0, 4] < sim[0, 1]


def test_neighbours_are_blocked_top_k_without_self(features: sp.csr_matrix) -> None:
    ids, sims = top_k_neighbours(features, 2)
    dense = (features @ features.T).toarray()
    for song in range(len(SONGS)):
        row = ids[song][ids[song] >= 0]
        assert song not in row
        np.testing.assert_allclose(sims[song][: row.size], dense[song, row])
    assert ids[2, 0] == 3 and ids[3, 0] == 2  # Bo's two songs


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
    best, table = tune_ranking(hybrid, {"weight": [0.0, 0.5, 1.0]}, fit, k=2)
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
    best2, table2 = tune_ranking(
        hybrid2, {"weight": [1.0, 0.0]}, fit2, k=1, validation_fraction=0.3
    )
    assert best2["weight"] == 0.0 and table2[1][1] > table2[0][1]


def test_map_at_k_matches_the_sql_definition() -> None:
    class Fixed(BiasBaseline):
        def _score_block(self, users: np.ndarray) -> np.ndarray:
            return np.tile(-np.arange(self.n_items_, dtype=float), (users.size, 1))

    model = Fixed().fit(Ratings(np.array([0]), np.array([5]), np.array([1.0]), 2, 6))
    # User 0 ranks 0,1,2 (5 is used); relevant {1, 3}: AP@3 = (1/2) / 2. User 1: {0}: AP = 1.
    valid = Ratings(np.array([0, 0, 1, 1]), np.array([1, 3, 0, 2]), np.array([1, 1, 1, -1.0]), 2, 6)
    assert map_at_k(model, valid, k=3) == pytest.approx(((1 / 2) / 2 + 1.0) / 2)


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
    sampled = map_at_k(model, valid, k=5, max_users=40, seed=3)
    chosen = np.sort(np.random.default_rng(3).choice(len(per_user), 40, replace=False))
    assert sampled == pytest.approx(np.mean([list(per_user.values())[i] for i in chosen]))
    assert sampled != pytest.approx(map_at_k(model, valid, k=5, max_users=40, seed=4))


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


# ---------------------------------------------------------------- the warehouse (slow) ---------


def query(built: Built, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return con.execute(sql).df()


@pytest.mark.slow
def test_cold_holdouts_are_about_ten_percent_whole_and_disjoint_from_training(
    built: Built,
) -> None:
    splits = query(built, "select * from cold_start_splits")
    songs = splits[splits["scenario"] == "cold_song"]
    users = splits[splits["scenario"] == "cold_influencer"]
    for frame, key in ((songs, "song_id"), (users, "influencer_id")):
        per_entity = frame.groupby(key)["split"].nunique()
        assert (per_entity == 1).all()  # held out whole
        share = frame.loc[frame["split"] == "test", key].nunique() / frame[key].nunique()
        assert 0.06 < share < 0.14, share
    # The lists of the cold_song scenario rank only held-out songs.
    cold_songs = set(songs.loc[songs["split"] == "test", "song_id"])
    lists = query(
        built,
        "select * from staging.stg_scores__evaluation_recommendations where scenario = 'cold_song'",
    )
    assert set(lists["method"]) == {"content"}
    assert set(lists["song_id"]) <= cold_songs
    new = query(
        built,
        "select distinct influencer_id from staging.stg_scores__evaluation_recommendations "
        "where scenario = 'cold_influencer'",
    )
    held_out = set(users.loc[users["split"] == "test", "influencer_id"])
    assert set(new["influencer_id"]) <= held_out


@pytest.mark.slow
def test_metrics_per_scenario_with_popularity_baselines(built: Built) -> None:
    metrics = query(
        built,
        "select method, scenario, metric, relevance, value from model_metrics "
        "where metric in ('map', 'recall') and relevance = 'used'",
    ).set_index(["scenario", "method", "metric"])["value"]
    for method in ("content", "hybrid"):
        assert ("warm", method, "map") in metrics.index
    assert ("cold_song", "content", "recall") in metrics.index
    assert ("cold_song", "count", "map") in metrics.index
    assert ("cold_influencer", "similar_influencers", "map") in metrics.index
    assert ("cold_influencer", "tier_count", "map") in metrics.index
    # The small dataset's shelf of ~50 new songs is too small to rank methods on (one list
    # of 10 covers a fifth of it); test_content_beats_chance_on_new_songs does that.
    assert metrics.between(0, 1).all()


@pytest.mark.slow
def test_content_picks_name_the_used_song_behind_them(built: Built) -> None:
    recs = query(
        built,
        "select r.reason, r.because_used_song_id, used.song_id is not null as was_used "
        "from recommendations r left join reels used "
        "on used.influencer_id = r.influencer_id and used.song_id = r.because_used_song_id "
        "where r.method = 'content'",
    )
    named = recs[recs["because_used_song_id"].notna()]
    assert len(named) > 0.5 * len(recs) and named["was_used"].all()
    assert named["reason"].str.contains("which you used").all()
    assert recs["reason"].str.contains("same artist as").any()
    neighbours = query(built, "select count(*) as n from song_neighbours where method = 'content'")
    assert neighbours["n"][0] > 0


@pytest.mark.slow
def test_new_influencer_from_the_command_line(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = str(built.warehouse)
    code = main(["new", "brand_new_dancer", "--bio", "Dancer 💃 | Mumbai", "--followers", "5000",
                 "-n", "5", "--warehouse", wh])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "@brand_new_dancer (nano)" in out
    assert len([line for line in out.splitlines() if line[:1].isdigit()]) == 5
    # No bio: tier popularity, said so.
    assert main(["new", "quiet_one", "--bio", "", "--followers", "200000", "--warehouse", wh]) == 0
    assert "celebrity popularity" in capsys.readouterr().out
    # Missing inputs and known handles are clear errors, not tracebacks.
    with pytest.raises(SystemExit) as missing:
        main(["new", "someone", "--bio", "x", "--warehouse", wh])
    assert missing.value.code == 2 and "--followers" in capsys.readouterr().err
    known = query(built, "select handle from influencers where handle is not null limit 1")
    handle = known["handle"][0]
    assert main(["new", handle, "--bio", "x", "--followers", "10", "--warehouse", wh]) == 2
    err = capsys.readouterr().err
    assert "already in the warehouse" in err and "Traceback" not in err
    # Hostile text stays a bound parameter.
    hostile = "x'; drop table main.songs; --"
    assert main(["new", hostile, "--bio", hostile, "--followers", "1", "--warehouse", wh]) == 0
    assert query(built, "select count(*) as n from songs")["n"][0] > 0


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


@pytest.mark.slow
def test_new_influencer_tier_follows_the_builds_cut_offs(
    built: Built, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A warehouse built with --var celebrity_followers=… places new influencers by it too."""
    import shutil

    import duckdb

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    args = ["new", "rising_star", "--bio", "x", "--followers", "50000", "--warehouse", str(copy)]
    assert main(args) == 0
    assert "@rising_star (micro)" in capsys.readouterr().out
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update main.run_settings set setting_value = '40000' "
            "where setting = 'celebrity_followers'"
        ).fetchall()
    assert main(args) == 0
    assert "@rising_star (celebrity)" in capsys.readouterr().out


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
    best, table = tune_ranking(hybrid, {"weight": [0.0, 0.5, 1.0]}, fit, k=3)
    train, valid = fit.split(0.1, 0)
    alone = clone(hybrid).fit(train)
    expected = [map_at_k(alone.set_params(weight=w), valid, 3) for w in (0.0, 0.5, 1.0)]
    assert [v for _, v in table] == expected and len(set(expected)) > 1


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
