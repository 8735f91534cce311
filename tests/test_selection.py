"""The run's default method: chosen by MAP on the validation cut of the training reels (never
the test reels), recorded in model_runs and run_settings, marked in recommendations, shown
first by `reelrec recommend` and the report."""

from __future__ import annotations

import contextlib
import io

import duckdb
import numpy as np
import pytest

from models_py.recommenders import Ratings
from models_py.recommenders.baselines import MostUsed
from models_py.recommenders.tuning import map_at_k
from models_py.scoring.data import ScoringData
from models_py.scoring.selection import choose_default, popularity_run, validation_map
from tests.conftest import Built


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_best_validation_map_wins_and_popularity_wins_ties() -> None:
    assert choose_default({"count": 0.1, "ease": 0.3, "als": 0.2}) == "ease"
    assert choose_default({"ease": 0.1, "count": 0.1}) == "count"
    assert choose_default({"ease": 0.0, "count": 0.05}) == "count"
    assert choose_default({}) == "count"


def scoring_data(train: Ratings, test: Ratings) -> ScoringData:
    import pandas as pd

    return ScoringData(
        influencer_ids=np.arange(train.n_users).astype(str),
        song_ids=np.arange(train.n_items).astype(str),
        train=train,
        test=test,
        everything=train,
        user_er=np.ones(train.n_users),
        unrated=pd.DataFrame({"user": [], "item": [], "split": []}),
    )


def random_ratings(seed: int, n: int = 3_000) -> Ratings:
    rng = np.random.default_rng(seed)
    cells = np.unique(rng.integers(0, 200 * 80, n))
    return Ratings(cells // 80, cells % 80, rng.normal(0.5, 2, cells.size), 200, 80)


def test_selection_never_reads_the_test_reels() -> None:
    train = random_ratings(1)
    judged = [
        popularity_run(scoring_data(train, test), "r")["validation_map"]
        for test in (random_ratings(2), random_ratings(3, n=10))
    ]
    assert judged[0] == judged[1]
    # ... and it is the MAP of popularity fitted on the training reels minus the cut.
    fit_part, cut = train.split(0.1, 0)
    expected = map_at_k(MostUsed().fit(fit_part), cut, 10, 0.0)
    assert judged[0] == pytest.approx(expected) and expected > 0
    assert validation_map(MostUsed(), train, scoring_data(train, train)) == judged[0]


def test_the_default_is_recorded_marked_and_shown_first(built: Built) -> None:
    runs = query(
        built.warehouse,
        "select method, validation_map, is_default from model_runs "
        "where validation_map is not null order by validation_map desc, method",
    )
    assert {"count", "er_biased_mf", "two_stage"} <= {m for m, _, _ in runs}
    defaults = [m for m, _, d in runs if d]
    assert defaults == [choose_default({m: v for m, v, _ in runs})]
    chosen = defaults[0]
    assert query(
        built.warehouse, "select setting_value from run_settings where setting = 'default_method'"
    ) == [(chosen,)]
    marked = query(
        built.warehouse,
        "select distinct method from recommendations where is_default order by 1",
    )
    assert marked == [(chosen,)]

    from models_py.cli.commands import main

    handle = query(built.warehouse, "select handle from influencers order by handle limit 1")[0][0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["recommend", handle, "--warehouse", str(built.warehouse), "-n", "2"]) == 0
    lines = printed.getvalue().splitlines()
    assert lines[1].startswith(f"Default method first: {chosen} — best MAP@10")
    assert lines[3].split()[0] == chosen  # the first row after the header
