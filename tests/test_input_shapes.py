"""Issue 18: any subset of the optional columns may be missing. Hypothesis picks which columns
a tiny generated file leaves out; the build must still publish, say which models it could not
fit and why, judge the usage-based rankers, and put a note where a chart has no data.

Two properties share the shapes. In `make test`, the model stage and the report on a copy of
one tiny build with the left-out columns blanked at every layer (20 examples; 200 under the
thorough profile). In `make test-big` also full `reelrec run`s (load, dbt build and its tests,
models, report, publish): each costs a dbt build, so they are the heavy tier's (10 examples
under its thorough profile). CI runs both tiers.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models_py.pipeline import report_path_for
from models_py.report.page import render
from models_py.scoring.runner import run_scoring
from tests.shapes import (
    OPTIONAL,
    TINY_VARS,
    Shape,
    null_columns,
    reelrec,
    var_args,
    write_shape,
)

pytestmark = pytest.mark.slow

shapes = st.builds(Shape, st.frozensets(st.sampled_from(OPTIONAL)))


def scaled(share: int) -> int:
    """`share` % of the profile's examples (100 by default, 1,000 under `thorough`), so the
    profile still scales these costly properties, from a smaller base."""
    return max(1, settings().max_examples * share // 100)


@pytest.fixture(scope="module")
def tiny_build(tiny_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("tiny_wh") / "warehouse.duckdb"
    code, printed = reelrec(
        "run", "--input", str(tiny_source), "--warehouse", str(warehouse), *var_args(TINY_VARS)
    )
    assert code == 0, printed
    return warehouse


def check_not_fitted(runs: dict[str, str | None], shape: Shape) -> None:
    """model_runs' reasons are exactly the shape's; item_knn needs no optional column."""
    expected = shape.not_fitted()
    got = {m: r for m, r in runs.items() if r is not None and not r.startswith("svds(")}
    assert got == expected, shape
    assert runs["item_knn"] is None


def check_chart_notes(html: str, shape: Shape) -> None:
    for note, missing in shape.chart_notes().items():
        assert (note in html) == missing, (note, shape)


@pytest.mark.big
@settings(max_examples=scaled(1), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes, fmt=st.sampled_from(["parquet", "csv"]))
def test_every_optional_column_may_be_missing_full_run(
    tiny_source: Path, shape: Shape, fmt: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_shape(tiny_source, Path(tmp) / "in", shape.dropped, fmt)
        warehouse = Path(tmp) / "wh" / "warehouse.duckdb"
        code, printed = reelrec(
            "run", "--input", str(folder), "--warehouse", str(warehouse), *var_args(TINY_VARS)
        )
        assert code == 0, (shape, printed)
        assert "Traceback" not in printed
        for reason in set(shape.not_fitted().values()):
            assert f": {reason}" in printed, (reason, printed)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            runs = dict(con.execute("select method, not_fitted_reason from model_runs").fetchall())
            judged = {
                (method, metric, relevance)
                for method, metric, relevance in con.execute(
                    "select method, metric, relevance from model_metrics where scenario = 'warm'"
                ).fetchall()
            }
        check_not_fitted(runs, shape)
        # Popularity and the usage-based rankers are judged whatever the shape.
        for method in ("count", "tier_count", "item_knn"):
            assert (method, "map", "used") in judged, (method, shape)
        rated = {m for m, metric, _ in judged if metric == "rmse"}
        lifted = {m for m, metric, relevance in judged if relevance == "lifted"}
        # No Delta: rating metrics and relevance lifted are absent, not zero.
        assert (not rated and not lifted) if shape.no_delta else {"item_knn", "count"} <= lifted
        check_chart_notes(report_path_for(warehouse).read_text(encoding="utf-8"), shape)


@settings(max_examples=scaled(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes)
def test_every_optional_column_may_be_missing_model_stage_and_report(
    tiny_build: Path, shape: Shape
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copy(tiny_build, copy)
        said: list[str] = []
        with duckdb.connect(str(copy)) as con:
            null_columns(con, shape)
            run_scoring(con, "shape", top_n=10, truth_dir=None, workers=1, echo=said.append)
            # What the score marts' build would publish of it, for the report.
            con.execute("create or replace table main.model_runs as from scores.model_runs")
            runs = dict(con.execute("select method, not_fitted_reason from model_runs").fetchall())
        check_not_fitted(runs, shape)
        html = render(copy)
        check_chart_notes(html, shape)
        for reason in set(shape.not_fitted().values()):
            assert f"({reason})" in html, (reason, shape)
