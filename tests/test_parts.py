"""On-demand lists: every servable model's parts, written to the warehouse and read back for
one influencer, give the list serving gives them (recommenders.parts, scoring.on_demand)."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pytest

from models_py.recommenders import shortlist_rank
from models_py.recommenders.parts import NoPartsError, rebuild, servable_classes, to_parts
from models_py.scoring import registry
from models_py.scoring.data import ScoringData, read_scoring_data
from models_py.scoring.frames import recommendation_frame
from models_py.scoring.on_demand import on_demand_list
from models_py.scoring.parts_store import parts_tables, read_parts, stored_methods
from models_py.scoring.writer import ScoreTables, append_scores, clear_scores
from tests.conftest import Built

SERVED = [spec for spec in registry.MODELS if spec.serve]
N = 10


@pytest.fixture(scope="module")
def warehouse(built: Built, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the built warehouse (the parts are written into it) and its data; one
    influencer's reels are taken out of the copy, so one has none, and another's Deltas."""
    path = tmp_path_factory.mktemp("parts") / "warehouse.duckdb"
    shutil.copy(built.warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "delete from intermediate.int_reels_split where influencer_id = "
            "(select influencer_id from main.influencers order by influencer_id limit 1 offset 3)"
        ).fetchall()
        con.execute(  # and one used song without a Delta: excluded, though never rated
            "update intermediate.int_reels_split set delta = null where influencer_id = "
            "(select max(influencer_id) from intermediate.int_reels_split)"
        ).fetchall()
        data = read_scoring_data(con)
    return path, data


def chosen_influencers(data: ScoringData) -> np.ndarray:
    """One with no reels, the one with most, one with used songs without a rating, two more."""
    n_reels = np.bincount(data.everything.user, minlength=len(data.influencer_ids))
    n_reels += np.bincount(data.unrated["user"], minlength=len(data.influencer_ids))
    assert n_reels[3] == 0 and len(data.unrated)  # the cases this file is about
    picks = [3, int(np.argmax(n_reels)), int(data.unrated["user"].iloc[0]), 1, n_reels.size // 2]
    return np.unique(picks).astype(np.int32)


@pytest.mark.parametrize("spec", SERVED, ids=lambda spec: spec.method)
def test_on_demand_list_is_the_served_list(spec: registry.ModelSpec, warehouse) -> None:
    _assert_on_demand_is_served(spec, *warehouse)


@pytest.mark.parametrize("method", ["content", "hybrid"])
def test_on_demand_ranks_as_the_full_fit_at_catalogue_scale(
    method: str, warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the threshold the full fit ranks shortlists; the model rebuilt for one influencer
    (1 x songs, far below it) must too, or its lists would differ (shortlist_rank)."""
    path, data = warehouse
    n_items = len(data.song_ids)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_CELLS", 2 * n_items)
    monkeypatch.setattr(shortlist_rank, "SHORTLIST_SONGS", 16)  # shortlists short of all songs
    spec = next(spec for spec in SERVED if spec.method == method)
    model = _assert_on_demand_is_served(spec, path, data)
    parts = to_parts(model)
    parts.influencer = {name: values[:1] for name, values in parts.influencer.items()}
    one = rebuild(parts, model.used_[:1])
    assert one.n_users_ == 1 and shortlist_rank.at_scale(model) and shortlist_rank.at_scale(one)
    if method == "content":
        assert one.ranker().shortlist
    else:
        assert one._shortlisted()


def _assert_on_demand_is_served(spec: registry.ModelSpec, path, data: ScoringData):
    """The on-demand list of each chosen influencer is their served list; the fitted model."""
    model = spec.make(data).fit(data.everything)
    tables = parts_tables(spec.method, model)
    with duckdb.connect(str(path)) as con:
        clear_scores(con)
        append_scores(con, ScoreTables([], [], [], [], [], **tables))
        assert stored_methods(con) == [spec.method]
        for user in chosen_influencers(data):
            served = recommendation_frame(
                data, model, spec.method, N, data.unrated, explain=True, users=np.array([user])
            )
            got = on_demand_list(con, spec.method, data.influencer_ids[user], N)
            assert got["song_id"].tolist() == data.song_ids[served["item"]].tolist()
            np.testing.assert_allclose(got["score"], served["score"], rtol=0, atol=1e-9)
            because = [data.song_ids[b] if b >= 0 else None for b in served["because"]]
            assert got["because_song_id"].tolist() == because
    return model


def test_song_rows_are_read_back_for_the_used_songs_only(warehouse) -> None:
    """EASE's weights are kept as a row per song of B; one influencer's read brings back
    exactly the rows of the songs they used that are in B, the same floats."""
    path, data = warehouse
    spec = next(spec for spec in SERVED if spec.method == "ease")
    model = spec.make(data).fit(data.everything)
    with duckdb.connect(str(path)) as con:
        clear_scores(con)
        append_scores(con, ScoreTables([], [], [], [], [], **parts_tables(spec.method, model)))
        user = int(np.argmax(np.diff(model.used_.indptr)))
        parts = read_parts(con, spec.method, data.influencer_ids[user])
    songs, rows = parts.song_rows["weight_rows_"]
    used = model.used_[user].indices
    expected = np.sort(used[model.position_[used] >= 0])
    assert 0 < songs.size < model.songs_.size
    np.testing.assert_array_equal(songs, expected)
    np.testing.assert_array_equal(rows, model.weights_[model.position_[expected]])


def test_a_method_without_parts_has_no_on_demand_list(warehouse) -> None:
    path, _ = warehouse
    with duckdb.connect(str(path)) as con:
        assert on_demand_list(con, "no_such_method", "anyone", N) is None
    with duckdb.connect() as older:  # a warehouse built before the parts tables
        assert stored_methods(older) == []


def test_every_servable_model_keeps_parts(warehouse) -> None:
    """A new servable spec must name its parts (PARTS), sub-models' included, or its lists
    could not be computed on demand."""
    _, data = warehouse
    missing = []
    for spec in SERVED:
        model = spec.make(data)
        nested = [v for v in model.get_params(deep=True).values() if hasattr(v, "fit")]
        for part in [model, *nested]:
            if type(part).__name__ not in servable_classes():
                missing.append(spec.method)
    assert not missing, f"servable models without parts: {set(missing)}"


def test_song_features_out_of_column_order_are_refused() -> None:
    """The reader rebuilds each song's row in column order, the order its sums run in: a part
    stored otherwise would give other floats, so it is not written."""
    import scipy.sparse as sp

    from models_py.scoring.parts_store import _feature_frame

    unsorted = sp.csr_matrix((np.array([0.6, 0.8]), np.array([1, 0]), np.array([0, 2])), (1, 2))
    with pytest.raises(ValueError, match="features_: song features are read back in feature"):
        _feature_frame("content", "features_", unsorted)
    unsorted.sort_indices()
    assert _feature_frame("content", "features_", unsorted)["feature"].tolist() == [0, 1]


def test_a_class_without_parts_fails_loudly() -> None:
    from models_py.recommenders.baselines import GlobalMean
    from models_py.recommenders.data import Ratings

    model = GlobalMean().fit(Ratings(np.array([0]), np.array([0]), np.array([1.0]), 1, 1))
    with pytest.raises(NoPartsError, match="no on-demand lists for GlobalMean"):
        to_parts(model)


def test_recommend_computes_a_method_not_served_on_demand(warehouse) -> None:
    from models_py.cli.lookup import recommendations
    from models_py.errors import ReelRecError
    from models_py.recommenders.baselines import GlobalMean

    path, data = warehouse
    spec = next(spec for spec in SERVED if spec.method == "two_stage")
    model = spec.make(data).fit(data.everything)
    user = int(np.argmax(np.bincount(data.everything.user)))
    with duckdb.connect(str(path)) as con:
        clear_scores(con)  # nothing served: every list must come from the parts
        append_scores(con, ScoreTables([], [], [], [], [], **parts_tables(spec.method, model)))
        titles = dict(con.execute("select song_id, title from main.songs").fetchall())
    served = recommendation_frame(data, model, "two_stage", 5, data.unrated, users=np.array([user]))
    _, rows = recommendations(path, data.influencer_ids[user], "two_stage", 5)
    assert [r[2] for r in rows] == [titles[s] for s in data.song_ids[served["item"]]]
    assert all(r[5].startswith("computed on demand from two_stage's fitted parts") for r in rows)
    with pytest.raises(ReelRecError, match="no method 'nope'; methods: .*count, .*two_stage"):
        recommendations(path, data.influencer_ids[user], "nope", 5)
    kept = parts_tables("global_mean", GlobalMean().fit(data.everything))  # kept without parts
    with duckdb.connect(str(path)) as con:
        append_scores(con, ScoreTables([], [], [], [], [], **kept))
    with pytest.raises(ReelRecError, match="global_mean was not served and no on-demand lists"):
        recommendations(path, data.influencer_ids[user], "global_mean", 5)


@pytest.mark.parametrize("width", [0, 1, 3, 64, 65, 2_500])
def test_array_parts_of_any_width_read_back_as_written(width: int) -> None:
    """Narrow rows travel as a column per value, wide ones as one Arrow list: both come back
    as the same floats."""
    from models_py.scoring.parts_store import _array_frame, _read_arrays
    from models_py.scoring.writer import ScoreTables, append_scores, create_score_tables

    values = np.random.default_rng(width).normal(size=(4, width))
    frame = _array_frame("artist_topics", "topic_artists_", "position", values)
    assert ("value" in frame.columns) == (width > 64)
    with duckdb.connect() as con:
        create_score_tables(con)
        con.execute("create table influencers (influencer_id varchar)").fetchall()
        con.execute("create table songs (song_id varchar)").fetchall()  # the writer's codes
        append_scores(con, ScoreTables.empty(array_parts=[frame]))
        (got,) = _read_arrays(con, "artist_topics", "arrays", ["topic_artists_"], "nobody")
    np.testing.assert_array_equal(got, values if width else np.zeros((0, 0)))
