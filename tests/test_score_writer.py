"""ScoreWriter: the judge phase's frames are batched, every row arrives decoded, and nothing
pending is written when the block fails."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_py.scoring import writer
from models_py.scoring.writer import ScoreTables, ScoreWriter, create_score_tables


@pytest.fixture
def con():
    with duckdb.connect() as con:
        con.execute(
            "create table influencers as select 'https://u' || i || '/' as influencer_id "
            "from range(5) as t(i)"
        ).fetchall()
        con.execute("create table songs as select 'S' || i as song_id from range(4) as t(i)")
        create_score_tables(con)
        yield con


def evaluation(method: str, users: list[int]) -> ScoreTables:
    frame = pd.DataFrame(
        {
            "method": method,
            "scenario": "warm",
            "user": np.array(users, np.int32),
            "rank": np.ones(len(users), np.int32),
            "item": np.array([u % 4 for u in users], np.int32),
            "score": np.linspace(0, 1, len(users)),
            "because": np.full(len(users), -1, np.int32),
        }
    )
    return ScoreTables.empty(evaluation_recommendations=[frame])


def rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select method, influencer_id, song_id from scores.evaluation_recommendations order by all"
    ).fetchall()


def test_batched_frames_wait_for_the_threshold_and_arrive_decoded(con, monkeypatch) -> None:
    monkeypatch.setattr(writer, "BATCH_ROWS", 5)
    with ScoreWriter(con) as out:
        out.append(evaluation("a", [0, 1]))
        assert rows(con) == []  # 2 rows pending
        out.append(evaluation("b", [2, 3, 4]))  # 5: written together
        assert len(rows(con)) == 5
        out.append(evaluation("c", [4]))
    assert rows(con)[-1] == ("c", "https://u4/", "S0")  # the rest on exit
    assert len(rows(con)) == 6
    assert ("b", "https://u3/", "S3") in rows(con)


def test_write_makes_pending_rows_readable_at_once(con) -> None:
    with ScoreWriter(con) as out:
        out.append(evaluation("a", [0]))
        out.write(ScoreTables.empty(model_runs=[{"run_id": "r", "method": "count"}]))
        assert len(rows(con)) == 1
        assert con.execute("select method from scores.model_runs").fetchall() == [("count",)]


def test_nothing_pending_is_written_when_the_block_fails(con) -> None:
    with pytest.raises(RuntimeError), ScoreWriter(con) as out:
        out.append(evaluation("a", [0, 1]))
        raise RuntimeError("a model failed")
    assert rows(con) == []
    temp = "select count(*) from duckdb_tables() where temporary"
    assert con.execute(temp).fetchall() == [(0,)]  # its code tables are gone too


def test_writers_on_one_connection_keep_their_own_code_tables(con) -> None:
    """A second writer (a one-off append_scores inside a run) must not drop the first's."""
    with ScoreWriter(con) as outer:
        writer.append_scores(con, evaluation("inner", [1]))
        outer.write(evaluation("outer", [2]))
    assert rows(con) == [("inner", "https://u1/", "S1"), ("outer", "https://u2/", "S2")]
