"""Issue 18's two shapes of real files, end to end: usage only (URL, Song, use_count: no Delta
at all) and ratings only (user, item and a 1-5 star rating, nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from models_py.pipeline import report_path_for
from tests.shapes import TINY_VARS, reelrec, var_args

pytestmark = pytest.mark.slow

RATING_MODELS = {"global_mean", "bias_baseline", "report_user_cf", "report_item_cf"}
RATING_MODELS |= {"report_svd", "knn_baseline", "biased_mf", "er_bias_baseline"}
RATING_MODELS |= {"er_biased_mf", "hybrid", "two_stage"}


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def build(folder: Path, tmp_path: Path, *extra: str) -> tuple[Path, str]:
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    code, printed = reelrec("run", "--input", str(folder), "--warehouse", str(warehouse), *extra)
    assert code == 0, printed
    assert "Traceback" not in printed
    return warehouse, printed


def test_usage_only_file_end_to_end(tiny_source: Path, tmp_path: Path) -> None:
    """URL, Song and use_count: popularity and the usage-based rankers run and are judged,
    the rating models are not fitted ("no Delta"), rating metrics are absent, not zero."""
    folder = tmp_path / "usage"
    folder.mkdir()
    for part in tiny_source.glob("*.parquet"):
        pq.write_table(
            pq.read_table(part, columns=["URL", "Song", "use_count"]), folder / part.name
        )
    warehouse, printed = build(folder, tmp_path, *var_args(TINY_VARS))
    assert "usage only" in printed and ": no Delta" in printed
    runs = dict(rows(warehouse, "select method, not_fitted_reason from model_runs"))
    assert {m for m, why in runs.items() if why == "no Delta"} == RATING_MODELS
    assert runs["content"] == "no song metadata" and runs["item_knn"] is None
    trained = dict(rows(warehouse, "select method, trained_on from model_runs"))
    assert trained["item_knn"] == trained["similar_influencers"] == "usage"
    metrics = rows(
        warehouse, "select distinct method, scenario, metric, relevance from model_metrics"
    )
    assert not [m for m in metrics if m[2] in ("rmse", "mae") or m[3] == "lifted"]
    judged = {
        (m, s) for m, s, metric, relevance in metrics if (metric, relevance) == ("map", "used")
    }
    assert {("count", "warm"), ("tier_count", "warm"), ("item_knn", "warm")} <= judged
    assert ("similar_influencers", "cold_influencer") in judged
    # The default method (chosen on validation MAP 'used') is listed for everyone.
    served = rows(
        warehouse, "select count(distinct influencer_id) from recommendations where is_default"
    )
    assert served == rows(warehouse, "select count(*) from influencers")
    html = report_path_for(warehouse).read_text(encoding="utf-8")
    assert "No rating metric: no model learnt from Delta in this build" in html
    assert 'alt="MAP at k by method"' in html
    assert "Not fitted in this build:" in html and "(no Delta)" in html


def star_ratings(source: Path, folder: Path) -> None:
    """user, item, rating: each generated reel's Delta as 1-5 stars, its influencer's URL and
    its song as the user and item; reels without a number for Delta left out."""
    folder.mkdir()
    table = pa.concat_tables(pq.read_table(p) for p in sorted(source.glob("*.parquet")))
    stars = [_stars(d) for d in table["Delta"].to_pylist()]
    out = pa.table({"user": table["URL"], "item": table["Song"], "rating": stars})
    pa_csv.write_csv(out.filter(pc.is_valid(out["rating"])), folder / "ratings.csv")


def _stars(delta: str | None) -> str | None:
    try:
        value = float(delta) if delta is not None else float("nan")
    except ValueError:
        return None
    return str(min(5, max(1, round(3 + value / 1.5)))) if abs(value) < 100 else None


def test_star_ratings_file_end_to_end(tiny_source: Path, tmp_path: Path) -> None:
    """Item 5 and lift_threshold: 1-5 stars mapped onto Delta. Predictions and served scores
    stay within the stars seen in training, and "lifted" means above lift_threshold."""
    star_ratings(tiny_source, tmp_path / "stars")
    warehouse, printed = build(
        tmp_path / "stars",
        tmp_path,
        "--map", "URL=user,Song=item,Delta=rating",
        # biased_mf served: its lists' scores are predicted stars.
        *var_args({**TINY_VARS, "lift_threshold": 3.5, "delta_threshold": 4.5,
                   "serve_methods": "biased_mf"}),
    )  # fmt: skip
    runs = dict(rows(warehouse, "select method, not_fitted_reason from model_runs"))
    assert runs["er_biased_mf"] == "no ER" and runs["content"] == "no song metadata"
    assert runs["biased_mf"] is None and runs["knn_baseline"] is None
    [(low, high)] = rows(warehouse, "select min(delta), max(delta) from reels")
    assert (low, high) == (1.0, 5.0)
    [(lowest, highest)] = rows(
        warehouse, "select min(prediction), max(prediction) from scores.test_predictions"
    )
    assert low <= lowest and highest <= high
    served = rows(
        warehouse,
        "select score, reason from recommendations where reason like 'predicted lift of %'",
    )
    assert served and all(low <= score <= high for score, _ in served)
    said = [float(re.search(r"predicted lift of (-?[\d.]+)", why).group(1)) for _, why in served]
    assert max(said) <= high
    # Relevance lifted: the judged held-out reels rated above 3.5 (4 and 5 stars), not every one.
    [(lifted,)] = rows(
        warehouse,
        "select count(*) from intermediate.int_relevant_test_songs "
        "where scenario = 'warm' and relevance = 'lifted'",
    )
    [(above, held_out)] = rows(
        warehouse,
        "select count(*) filter (where delta > 3.5), count(*) from evaluation_splits "
        "inner join evaluation_influencers using (influencer_id) where split = 'test'",
    )
    assert lifted == above and 0 < above < held_out
    assert ("lift_threshold", "3.5") in rows(
        warehouse, "select setting, setting_value from run_settings"
    )
