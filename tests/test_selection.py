"""The run's default method: chosen by MAP on the validation cut of the training reels (never
the test reels), recorded in model_runs and run_settings, marked in recommendations, shown
first by `reelrec recommend` and the report."""

from __future__ import annotations

import contextlib
import io

import duckdb
import numpy as np
import pytest

from models_py.cli.lookup import selection_reason
from models_py.dbt_vars import SERVABLE_METHODS
from models_py.recommenders import Ratings
from models_py.recommenders.baselines import MostUsed
from models_py.recommenders.tuning import MapScore, map_at_k
from models_py.scoring.data import ScoringData
from models_py.scoring.registry import stacked_methods
from models_py.scoring.selection import choose_default, popularity_run, validation_map
from tests.conftest import Built


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def exact(**maps: float) -> dict[str, MapScore]:
    return {method: MapScore(value, 0.0) for method, value in maps.items()}


def test_the_best_validation_map_wins_and_popularity_wins_ties() -> None:
    assert choose_default(exact(count=0.1, ease=0.3, als=0.2)) == "ease"
    assert choose_default(exact(ease=0.1, count=0.1)) == "count"
    assert choose_default(exact(ease=0.0, count=0.05)) == "count"
    assert choose_default({}) == "count"


def test_within_one_standard_error_the_simplest_method_is_served() -> None:
    stacked = {"two_stage", "hybrid"}
    judged = {
        "two_stage": MapScore(0.0367, 0.003),
        "artist_topics": MapScore(0.0366, 0.003),
        "ease": MapScore(0.0340, 0.003),
        "count": MapScore(0.0090, 0.001),
    }
    # two_stage's margin over its own candidates is noise: a model on its own is served, the
    # best of those within the band (ease is within it too, but below artist_topics).
    assert choose_default(judged, stacked) == "artist_topics"
    # Beyond one standard error the stacked model has earned its cost.
    assert choose_default({**judged, "two_stage": MapScore(0.0400, 0.003)}, stacked) == (
        "two_stage"
    )
    # The band is the best's standard error, not the candidate's.
    wide = {"two_stage": MapScore(0.0367, 0.0001), "artist_topics": MapScore(0.0360, 0.5)}
    assert choose_default(wide, stacked) == "two_stage"
    # Popularity within the noise of the best model is the simplest answer.
    assert choose_default({**judged, "count": MapScore(0.0340, 0.001)}, stacked) == "count"
    # Nothing stacked: the plain best.
    assert choose_default(judged) == "two_stage"


def test_the_reason_names_the_best_when_a_simpler_method_is_served() -> None:
    judged = [("two_stage", 0.0367, "lifted", 0.003), ("artist_topics", 0.0366, "lifted", 0.002)]
    why = selection_reason("artist_topics", judged, "10")
    assert "0.0366, within one standard error of the best, two_stage 0.0367 ± 0.0030" in why
    assert selection_reason("two_stage", judged, "10").startswith("best MAP@10 (lifted)")


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
    assert validation_map(MostUsed(), train, scoring_data(train, train)).map == judged[0]


def test_the_default_is_recorded_marked_and_shown_first(built: Built) -> None:
    runs = query(
        built.warehouse,
        "select method, validation_map, validation_map_se, is_default from model_runs "
        "where validation_map is not null order by validation_map desc, method",
    )
    assert {"count", "er_biased_mf", "two_stage"} <= {m for m, *_ in runs}
    # The candidates are what the run can serve: ALS is rank-tuned on the same cut (its
    # search is kept) but never served, so it must not be chosen.
    assert {m for m, *_ in runs} <= {*SERVABLE_METHODS, "count"}
    assert query(
        built.warehouse, "select rank_tuning is not null from model_runs where method = 'als'"
    ) == [(True,)]
    # Every fitted row says whether it is the default, also those written after the choice.
    unmarked = (
        "select method from model_runs where not_fitted_reason is null and is_default is null"
    )
    assert query(built.warehouse, unmarked) == []
    assert all(se > 0 for _, _, se, _ in runs)
    defaults = [m for m, _, _, d in runs if d]
    judged = {m: MapScore(v, se) for m, v, se, _ in runs}
    assert defaults == [choose_default(judged, stacked_methods())]
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
    assert lines[1].startswith(f"Default method first: {chosen} — ")
    assert selection_reason(chosen, [r[:2] + ("lifted", r[2]) for r in runs], "10") in lines[1]
    assert lines[3].split()[0] == chosen  # the first row after the header
