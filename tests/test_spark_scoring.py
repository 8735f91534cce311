"""The Spark scoring step on small marts: the scores tables it writes have writer.py's columns
and types (read back from their parquet by DuckDB, as a BI tool would), the lists leave out
the used songs, and every model without a Spark version is named in model_runs."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_py.scoring.registry import MODELS, NEW_INFLUENCER_METHOD
from models_py.scoring.writer import TABLES, create_score_tables
from tests.spark_session import spark_run

pytestmark = pytest.mark.spark
pyspark = pytest.importorskip("pyspark")

N_INFLUENCERS, N_SONGS, TOP_N = 30, 20, 5
SPARK_METHODS = {"biased_mf", "als"}
# Spark's names for the DuckDB types writer.TABLES declares.
DUCK_TYPE_OF_SPARK = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "array<double>": "DOUBLE[]",  # the fitted parts' rows (influencer_parts, song_parts, ..)
}


def marts(delta: bool) -> dict[str, pd.DataFrame]:
    """The four marts the step reads; ids whose order differs from their creation order."""
    rng = np.random.default_rng(3)
    influencers = [f"https://www.instagram.com/u{(7 * k) % N_INFLUENCERS:02d}/" for k in range(30)]
    songs = [f"song-{(11 * k) % N_SONGS:03d}" for k in range(N_SONGS)]
    rows = []
    for influencer in influencers:
        for song in rng.choice(songs, size=7, replace=False):
            rated = delta and rng.random() < 0.9
            rows.append((influencer, song, rng.random() < 0.75, rng.normal() if rated else None))
    splits = pd.DataFrame(rows, columns=["influencer_id", "song_id", "is_train", "delta"])
    splits["split"] = np.where(splits.pop("is_train"), "train", "test")
    splits["delta"] = splits["delta"].astype(float)  # NaN: no rating (NULL in Spark)
    splits["use_count"] = 1
    return {
        "influencers": pd.DataFrame({"influencer_id": influencers}),
        "songs": pd.DataFrame({"song_id": songs}),
        "evaluation_splits": splits,
        "evaluation_influencers": pd.DataFrame(
            {"influencer_id": sorted(influencers)[:20], "sample_position": range(1, 21)}
        ),
    }


def score(run: object, tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], str]:
    """Write `tables` as the Spark marts, run the step; (every scores table, what it said)."""
    import pyarrow as pa

    from models_py.spark.scoring import run_spark_scoring

    spark = run.spark
    spark.sql("create database if not exists main")
    for name, table in tables.items():
        frame = spark.createDataFrame(pa.Table.from_pandas(table, preserve_index=False))
        frame.write.mode("overwrite").saveAsTable(f"main.{name}")
    said: list[str] = []
    run_spark_scoring(spark, "run-1", TOP_N, echo=said.append)
    out = {name: spark.table(f"scores.{name}").toPandas() for name in TABLES}
    return out, "\n".join(said)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with spark_run(tmp_path_factory.mktemp("spark")) as started:
        yield started


@pytest.fixture(scope="module")
def scored(run: object) -> tuple[dict[str, pd.DataFrame], str, dict[str, pd.DataFrame]]:
    tables = marts(delta=True)
    return (*score(run, tables), tables)


def duckdb_columns() -> dict[str, list[tuple[str, str]]]:
    """(name, type) of every scores table as the DuckDB stage creates it."""
    con = duckdb.connect()
    create_score_tables(con)
    return {
        name: [(c, t) for c, t, *_ in con.execute(f"describe scores.{name}").fetchall()]
        for name in TABLES
    }


def test_tables_have_writers_columns_and_types(run: object, scored: tuple) -> None:
    want = duckdb_columns()
    con = duckdb.connect()
    for name in TABLES:
        spark_types = run.spark.table(f"scores.{name}").dtypes
        assert [(c, DUCK_TYPE_OF_SPARK[t]) for c, t in spark_types] == want[name]
        folder = run.warehouse_dir / "scores.db" / name
        if list(folder.glob("*.parquet")):  # song_neighbours stays empty: no parquet file
            read = con.execute(f"describe select * from read_parquet('{folder}/*.parquet')")
            assert [(c, t) for c, t, *_ in read.fetchall()] == want[name]


def test_model_runs_name_every_model_left_out(scored: tuple) -> None:
    out, said, _ = scored
    runs = out["model_runs"].set_index("method")
    others = {spec.method for spec in MODELS} - SPARK_METHODS | {NEW_INFLUENCER_METHOD}
    assert set(runs.index) == others | SPARK_METHODS
    assert (runs.loc[sorted(others), "not_fitted_reason"] == "no Spark version").all()
    fitted = runs.loc[sorted(SPARK_METHODS)]
    assert fitted["not_fitted_reason"].isna().all() and (fitted["n_train"] > 0).all()
    assert fitted.loc["biased_mf", "trained_on"] == "delta"
    assert fitted.loc["als", "trained_on"] == "usage"
    assert not runs["is_default"].any()  # no validation cut on Spark: popularity first
    assert "no Spark version" in said and all(m in said for m in others)


def test_lists_leave_out_used_songs_and_are_ranked(scored: tuple) -> None:
    out, _, tables = scored
    splits = tables["evaluation_splits"]
    used = set(zip(splits["influencer_id"], splits["song_id"], strict=True))
    train = splits[splits["split"] == "train"]
    used_in_train = set(zip(train["influencer_id"], train["song_id"], strict=True))
    judged = set(tables["evaluation_influencers"]["influencer_id"])
    everyone = set(tables["influencers"]["influencer_id"])
    for table, owners, left_out in (
        ("evaluation_recommendations", judged, used_in_train),
        ("recommendations", everyone, used),
    ):
        lists = out[table]
        assert set(lists["method"]) == SPARK_METHODS
        for (_, owner), picks in lists.groupby(["method", "influencer_id"]):
            assert owner in owners
            assert picks.sort_values("rank")["rank"].tolist() == list(range(1, TOP_N + 1))
            scores = picks.sort_values("rank")["score"].to_numpy()
            assert (np.diff(scores) <= 1e-12).all()
        assert len(lists) == len(owners) * TOP_N * len(SPARK_METHODS)
        assert not set(zip(lists["influencer_id"], lists["song_id"], strict=True)) & left_out
        assert lists["because_song_id"].isna().all()
    assert set(out["evaluation_recommendations"]["scenario"]) == {"warm"}


def test_predictions_cover_the_rated_held_out_reels(scored: tuple) -> None:
    out, _, tables = scored
    splits = tables["evaluation_splits"]
    rated_test = splits[(splits["split"] == "test") & splits["delta"].notna()]
    predictions = out["test_predictions"]
    assert set(predictions["method"]) == {"biased_mf"}
    got = set(zip(predictions["influencer_id"], predictions["song_id"], strict=True))
    assert got == set(zip(rated_test["influencer_id"], rated_test["song_id"], strict=True))
    train_delta = splits.loc[splits["split"] == "train", "delta"].dropna()
    assert predictions["prediction"].between(train_delta.min(), train_delta.max()).all()


def test_without_delta_only_the_usage_model_is_fitted(run: object, scored: tuple) -> None:
    out, said = score(run, marts(delta=False))
    runs = out["model_runs"].set_index("method")
    assert runs.loc["biased_mf", "not_fitted_reason"] == "no Delta"
    assert pd.isna(runs.loc["als", "not_fitted_reason"])
    assert out["test_predictions"].empty
    assert set(out["recommendations"]["method"]) == {"als"}
    assert "biased_mf: no Delta" in said
