"""The Python stage on the small generated warehouse: what it writes and how it is judged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_py.contract import project_var
from models_py.dbt_vars import POPULARITY_METHODS, SERVABLE_METHODS
from models_py.scoring.on_demand import on_demand_list
from models_py.scoring.registry import MODELS, NEW_INFLUENCER_METHOD
from tests.conftest import SMALL_VARS, Built

pytestmark = pytest.mark.slow

ORACLES = {"oracle", "oracle_usage", "oracle_biases"}


def query(built: Built, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def metric(built: Built, name: str, relevance: str) -> pd.Series:
    frame = query(
        built,
        f"select method, value from model_metrics where metric = '{name}' "
        f"and relevance = '{relevance}'",
    )
    return frame.set_index("method")["value"]


# Models that only rank (predicts_ratings = False): no test predictions, so no RMSE.
RANK_ONLY = {"ease", "als", "artist_topics"}


def test_every_model_and_the_oracle_are_judged(built: Built) -> None:
    rmse = metric(built, "rmse", "rating")
    assert set(rmse.index) == {s.method for s in MODELS} - RANK_ONLY | ORACLES
    map_lifted = metric(built, "map", "lifted")
    assert {s.method for s in MODELS} | ORACLES | {"count"} <= set(map_lifted.index)
    runs = query(built, "select * from model_runs")
    # ... and `count` popularity, judged beside them for the default method (test_selection).
    expected = {s.method for s in MODELS} | ORACLES | {NEW_INFLUENCER_METHOD, "count"}
    assert set(runs["method"]) == expected
    assert (runs["fit_seconds"] >= 0).all() and runs["run_id"].nunique() == 1


def test_shipped_models_beat_the_global_mean_and_the_oracle_is_the_floor(built: Built) -> None:
    rmse = metric(built, "rmse", "rating")
    shipped = [s.method for s in MODELS if s.family == "model" and s.method not in RANK_ONLY]
    assert (rmse[shipped] < rmse["global_mean"]).all(), rmse
    assert rmse["oracle"] == rmse["oracle_usage"] < rmse.drop(["oracle", "oracle_usage"]).min()
    # Knowing the planted biases (no factors) beats every model learnt from ratings.
    assert rmse["oracle_biases"] < rmse.drop(list(ORACLES)).min()
    # The ER-informed biases carry the influencer bias the generator planted from ER.
    assert rmse["er_bias_baseline"] < rmse["bias_baseline"]


def test_served_lists_and_neighbours_are_published(built: Built) -> None:
    served = set(query(built, "select method from model_runs where serving = 'served'")["method"])
    assert served  # the default method at least: a model beats popularity here
    recs = query(
        built, "select method, count(distinct influencer_id) as n from recommendations group by 1"
    )
    n_influencers = query(built, "select count(*) as n from influencers")["n"][0]
    counts = recs.set_index("method")["n"]
    assert all(counts[m] == n_influencers for m in served)
    neighbours = query(built, "select * from song_neighbours")
    assert len(neighbours) > 0 and (neighbours["song_id"] != neighbours["neighbour_song_id"]).all()
    # Explained by item_knn's neighbour lists, written whether item_knn is served or not.
    reasons = query(built, "select reason from recommendations where method = 'count' limit 500")
    assert reasons["reason"].str.contains("which you used").any()


def test_predictions_cover_every_held_out_rating(built: Built) -> None:
    held_out = query(
        built,
        "select count(*) as n, count(distinct influencer_id) as influencers "
        "from evaluation_splits where split = 'test' and delta is not null",
    )
    predicted = query(
        built,
        """
        select p.method, count(*) as n
        from scores.test_predictions as p
        inner join evaluation_splits as s
            on p.influencer_id = s.influencer_id and p.song_id = s.song_id
        where s.split = 'test' and s.delta is not null
        group by p.method
        """,
    )
    assert (predicted["n"] == held_out["n"][0]).all()
    per_model = query(built, "select users_evaluated from model_metrics where metric = 'rmse'")
    assert len(per_model) == len(predicted)
    # rmse averages over ratings but, like every metric, counts influencers evaluated.
    assert (per_model["users_evaluated"] == held_out["influencers"][0]).all()


def test_used_songs_without_a_rating_are_never_recommended_back() -> None:
    """A reel with blank Delta and Curr_ER teaches the model nothing but is still 'used'."""
    import numpy as np

    from models_py.recommenders.baselines import BiasBaseline
    from models_py.recommenders.data import Ratings
    from models_py.scoring.data import ScoringData
    from models_py.scoring.frames import recommendation_frame

    rated = Ratings(
        user=np.array([0, 0, 1], np.int32),
        item=np.array([0, 1, 1], np.int32),
        rating=np.array([1.0, 2.0, 3.0]),
        n_users=2,
        n_items=6,
    )
    # Influencer 1 also used songs 2 and 3, without a rating; song 3 would rank high.
    unrated = pd.DataFrame({"user": [1, 1], "item": [2, 3], "split": ["train", "train"]})
    data = ScoringData(
        influencer_ids=np.array(["a", "b"]),
        song_ids=np.array([f"s{i}" for i in range(6)]),
        train=rated,
        test=rated,
        everything=rated,
        user_er=np.array([1.0, 2.0]),
        unrated=unrated,
    )
    model = BiasBaseline().fit(rated)
    frame = recommendation_frame(data, model, "m", 3, unrated)
    b = frame[frame["user"] == 1]  # codes: append_scores turns them into ids
    assert not set(b["item"]) & {1, 2, 3}
    assert list(b["rank"]) == [1, 2, 3]
    assert len(frame[frame["user"] == 0]) == 3


def test_truth_is_used_only_for_the_files_it_describes(tmp_path) -> None:
    import json

    from models_py.scoring.registry import truth_matches

    (tmp_path / "params.json").write_text(json.dumps({"files": [{"file": "data1.xlsx"}]}))
    assert truth_matches(tmp_path, {"data1.xlsx"})
    assert not truth_matches(tmp_path, {"data1.xlsx", "mine.csv"})
    assert not truth_matches(tmp_path / "absent", {"data1.xlsx"})


def test_every_method_is_judged_on_the_same_fixed_sample(built: Built) -> None:
    cap = SMALL_VARS["eval_max_influencers"]
    everyone = query(built, "select influencer_id from influencers")["influencer_id"]
    assert len(everyone) > cap  # the sample really is a sample here
    sample = set(query(built, "select influencer_id from evaluation_influencers")["influencer_id"])
    # The first `cap` influencers by md5(influencer_id | split_seed): the same on any machine.
    seed = project_var("split_seed")
    by_hash = sorted(everyone, key=lambda i: (hashlib.md5(f"{i}|{seed}".encode()).hexdigest(), i))
    assert sample == set(by_hash[:cap])
    # Every evaluation list, SQL or Python, warm or cold, is for a sampled influencer...
    listed = query(
        built,
        "select method, scenario, influencer_id from intermediate.int_evaluation_recommendations",
    )
    assert set(listed["influencer_id"]) <= sample
    # ...and every warm list-maker covers all of them (each has unused songs left to rank).
    warm = listed[listed["scenario"] == "warm"].groupby("method")["influencer_id"].nunique()
    assert (warm == cap).all(), warm[warm != cap]
    # So the ranking metrics average over the same influencers for every method.
    judged = query(
        built,
        "select scenario, relevance, method, users_evaluated from model_metrics "
        "where metric = 'map'",
    )
    per_group = judged.groupby(["scenario", "relevance"])["users_evaluated"].nunique()
    assert (per_group == 1).all(), per_group
    assert (judged["users_evaluated"] <= cap).all()


def test_the_reports_own_methods_are_left_out_past_their_size_limit(built: Built) -> None:
    from models_py.scoring.data import faithful_max_ratings
    from models_py.scoring.registry import within_size_limits

    specs = list(MODELS)
    faithful = [s.method for s in specs if s.family == "faithful"]
    assert faithful, "the report's methods are among the models"
    # At the limit everything runs; one rating past it the faithful family alone is dropped.
    assert within_size_limits(specs, 1_000, 1_000) == (specs, [])
    kept, left_out = within_size_limits(specs, 1_001, 1_000)
    assert left_out == faithful
    assert kept == [s for s in specs if s.method not in faithful]
    # The scoring stage reads the limit the warehouse was built with.
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        assert faithful_max_ratings(con) == project_var("faithful_max_ratings")


def test_scores_are_written_with_ids_for_the_models_codes() -> None:
    """The models hand back codes (positions in the sorted ids, as the read numbers them); the
    score tables get the ids (no `because`: NULL)."""
    import numpy as np

    from models_py.scoring.data import read_coded
    from models_py.scoring.writer import ScoreTables, append_scores, create_score_tables

    recs = pd.DataFrame(
        {"method": "m", "user": np.array([2, 0], np.int32), "rank": np.array([1, 1], np.int32),
         "item": np.array([3, 1], np.int32), "score": [0.5, 0.25],
         "because": np.array([-1, 2], np.int32)}
    )  # fmt: skip
    neighbours = pd.DataFrame(
        {"method": "item_knn", "item": np.array([1], np.int32),
         "neighbour_rank": np.array([1], np.int32), "neighbour_item": np.array([0], np.int32),
         "similarity": [0.9]}
    )  # fmt: skip
    with duckdb.connect() as con:
        # Stored out of order: codes follow the sorted ids, not the storage.
        con.execute(
            "create table influencers as select * from (values "
            "('https://c/'), ('https://a/'), ('https://b/')) as t(influencer_id)"
        )
        con.execute("create table songs as select * from (values "
                    "('S2'), ('S0'), ('S3'), ('S1')) as t(song_id)")  # fmt: skip
        con.execute(
            "create table pairs as select * from (values ('https://c/', 'S3'), "
            "('https://a/', 'S1')) as t(influencer_id, song_id)"
        )
        create_score_tables(con)
        append_scores(con, ScoreTables([], [], [recs], [neighbours], []))
        got = con.execute(
            "select influencer_id, song_id, because_song_id, score "
            "from scores.recommendations order by score"
        ).fetchall()
        pairs = con.execute(
            "select song_id, neighbour_song_id from scores.song_neighbours"
        ).fetchall()
        # The read's codes of those pairs are the codes written: one numbering both ways.
        read = read_coded(con, "pairs", "1 as one")
    assert got == [("https://a/", "S1", "S2", 0.25), ("https://c/", "S3", None, 0.5)]
    assert sorted(zip(read["user"], read["item"], strict=True)) == [(0, 1), (2, 3)]
    assert pairs == [("S1", "S0")]


def test_each_job_is_written_as_it_finishes_then_dropped(built: Built) -> None:
    """score_all hands every job's tables to the sink on their own (one model's rows each), so
    the parent never gathers every model's frames, whose sum set the peak of large runs; it
    lists for everyone only the methods chosen once the servable models' judge jobs were
    written, while the other judges still run (a worker, here the only one, never waits on
    the choice), and those judges are not queued ahead of the serve jobs the choice adds
    (at most one per worker comes between them)."""
    from models_py.scoring.data import read_scoring_data
    from models_py.scoring.schedule import score_all
    from models_py.scoring.writer import ScoreTables

    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        data = read_scoring_data(con)
    specs = [s for s in MODELS if s.method in {"global_mean", "bias_baseline", "item_knn"}]
    calls: list[tuple[str, set[str]]] = []

    def sink(out: ScoreTables) -> None:
        for name in ("test_predictions", "evaluation_recommendations", "recommendations"):
            for frame in getattr(out, name):
                calls.append((name, set(frame["method"])))
        calls.extend(("model_runs", {run["method"]}) for run in out.model_runs)

    judged_at_choice: set[str] = set()
    calls_at_choice = []

    def choose_served() -> set[str]:
        judged_at_choice.update(m for name, ms in calls if name == "model_runs" for m in ms)
        calls_at_choice.append(len(calls))
        return {"item_knn", "not_a_model"}

    served, seconds = score_all(
        specs, data, 10, "run", lambda _: None, sink, choose_served, workers=1
    )
    everyone = {s.method for s in specs} | {NEW_INFLUENCER_METHOD}
    assert "item_knn" in judged_at_choice and judged_at_choice < everyone
    judged = {m for name, methods in calls if name == "model_runs" for m in methods}
    assert judged == everyone
    assert all(len(methods) == 1 for _, methods in calls)
    assert served == {"item_knn"} and set(seconds) == {"item_knn"}  # the one servable spec
    listed = [methods for name, methods in calls if name == "recommendations"]
    assert listed == [{"item_knn"}]
    after_choice = calls[calls_at_choice[0] :]
    served_at = after_choice.index(("recommendations", {"item_knn"}))
    assert sum(name == "model_runs" for name, _ in after_choice[:served_at]) == 1


def test_with_nothing_servable_the_choice_is_made_once_and_every_judge_runs(
    built: Built,
) -> None:
    """No servable model to wait for (all left unfitted, say): the default is chosen at once,
    once, and the judges still all run."""
    from models_py.scoring.data import read_scoring_data
    from models_py.scoring.schedule import score_all

    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        data = read_scoring_data(con)
    specs = [s for s in MODELS if s.method in {"global_mean", "bias_baseline"}]
    judged: list[str] = []
    choices: list[int] = []

    def choose_served() -> set[str]:
        choices.append(len(judged))
        return {"count"}

    served, seconds = score_all(
        specs,
        data,
        10,
        "run",
        lambda _: None,
        lambda out: judged.extend(run["method"] for run in out.model_runs),
        choose_served,
    )
    assert choices == [0] and served == set() and seconds == {}
    assert sorted(judged) == sorted([s.method for s in specs] + [NEW_INFLUENCER_METHOD])


def test_only_the_default_and_serve_methods_are_listed_for_everyone(
    small_data: Path, tmp_path: Path
) -> None:
    """The serving rule: recommendations holds the default method's lists and serve_methods',
    every other servable model is on demand, and every model is judged."""
    from models_py.pipeline import run

    result = run(
        small_data / "raw", tmp_path / "w.duckdb",
        dbt_vars={**SMALL_VARS, "serve_methods": "item_knn,count"},
        generate_if_empty=False, report=False, echo=lambda _: None,
    )  # fmt: skip
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        default = con.execute(
            "select setting_value from run_settings where setting = 'default_method'"
        ).fetchone()[0]
        served = {
            r[0]
            for r in con.execute("select distinct method from scores.recommendations").fetchall()
        }
        marts = {
            r[0]
            for r in con.execute("select distinct method from recommendations").fetchall()
            if r[0] not in POPULARITY_METHODS
        }
        runs = dict(con.execute("select method, serving from model_runs").fetchall())
        judged = {r[0] for r in con.execute("select distinct method from model_metrics").fetchall()}
    servable = {m for m in SERVABLE_METHODS if m in runs and runs[m] is not None}
    assert served == ({default, "item_knn"} & servable)
    assert {m for m in servable if runs[m] == "served"} == served
    assert {m for m in servable if runs[m] == "on_demand"} == servable - served
    assert servable <= judged and len(servable) >= 8
    assert marts == served
    # A served method's lists equal what on demand computes from its parts, for anyone.
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        listed = con.execute(
            "select influencer_id, list(song_id order by rank), list(score order by rank) "
            "from scores.recommendations where method = 'item_knn' group by 1 "
            "order by count(*) desc, 1 limit 25"
        ).fetchall()
        for influencer_id, songs, scores in listed:
            got = on_demand_list(con, "item_knn", influencer_id, len(songs))
            assert got["song_id"].tolist() == songs, influencer_id
            assert np.allclose(got["score"], scores, rtol=0, atol=1e-9)


def test_the_job_tables_and_the_decoded_columns_follow_the_score_tables() -> None:
    """TABLES is the one definition: a job carries rows for each of its tables, and every
    coded column becomes one of their columns."""
    from dataclasses import fields

    from models_py.scoring.writer import CODED_COLUMNS, TABLES, ScoreTables

    assert [f.name for f in fields(ScoreTables)] == list(TABLES)
    columns = {c.split()[0] for ddl in TABLES.values() for c in ddl.split(",")}
    assert {as_name for *_, as_name in CODED_COLUMNS.values()} <= columns
