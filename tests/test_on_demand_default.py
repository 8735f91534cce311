"""On demand equals served, on the default data: every servable model is served (the
serve_methods var) in one `make run`-like build of the generated default dataset, and the list
`reelrec recommend --method X` computes from X's fitted parts is, for a sample of influencers
(the heaviest users first), the served list: same songs in the same order, same scores,
same reason song. In `make test-big` (a whole default-data run with every list served)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from models_py.dbt_vars import SERVABLE_METHODS
from models_py.scoring.on_demand import on_demand_list

pytestmark = [pytest.mark.slow, pytest.mark.big]

PER_METHOD = 40  # influencers compared per method: the 20 heaviest users and 20 by hash


@pytest.fixture(scope="module")
def default_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models_py.pipeline import run
    from models_py.synth.generate import generate

    data = tmp_path_factory.mktemp("default")
    generate(data)  # what `make run` generates into data/ when it is empty
    result = run(
        data / "raw", data / "warehouse.duckdb",
        dbt_vars={"serve_methods": ",".join(SERVABLE_METHODS)},
        generate_if_empty=False, report=False, echo=lambda _: None,
    )  # fmt: skip
    return result.warehouse


@pytest.mark.parametrize("method", SERVABLE_METHODS)
def test_on_demand_lists_are_the_served_lists(default_build: Path, method: str) -> None:
    with duckdb.connect(str(default_build), read_only=True) as con:
        serving = con.execute(
            "select serving from model_runs where method = ?", [method]
        ).fetchall()
        assert serving == [("served",)], f"{method} was not fitted and served: {serving}"
        listed = con.execute(
            """
            with lists as (
                select influencer_id, count(*) as n,
                    list(song_id order by rank) as songs,
                    list(score order by rank) as scores,
                    list(coalesce(because_song_id, '') order by rank) as because
                from scores.recommendations where method = ? group by 1
            ),
            used as (select influencer_id, count(*) as reels from reels group by 1)
            select lists.*
            from lists inner join used using (influencer_id)
            qualify row_number() over (order by reels desc, influencer_id) <= ?
                or row_number() over (order by hash(influencer_id), influencer_id) <= ?
            """,
            [method, PER_METHOD // 2, PER_METHOD // 2],
        ).fetchall()
        assert len(listed) >= PER_METHOD // 2
        for influencer_id, n, songs, scores, because in listed:
            got = on_demand_list(con, method, influencer_id, n)
            assert got["song_id"].tolist() == songs, (method, influencer_id)
            np.testing.assert_allclose(got["score"], scores, rtol=0, atol=1e-9)
            assert got["because_song_id"].fillna("").tolist() == because, (method, influencer_id)
