"""The scoring stage on Spark: the models with a Spark version fitted through MLlib ALS, their
scores written to the Spark `scores` tables the same score marts read.

As on DuckDB (scoring.runner): each model is fitted on the training split, predicts the rated
held-out reels (explicit models only: RMSE rows), lists the top n songs for the evaluated
influencers leaving out the songs they used in training, is refitted on every reel and serves
the top n for everyone leaving out every song they used. Every other model of the registry
gets a model_runs row saying it has no Spark version.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from models_py.scoring.data import MIN_TRAINING_RATINGS
from models_py.scoring.registry import INPUTS, MODELS, NEW_INFLUENCER_METHOD
from models_py.spark.data import SparkScoringData, read_spark_scoring_data
from models_py.spark.models import SparkBiasedMF, SparkFactorModel, SparkImplicitALS
from models_py.spark.scores import append_scores, create_score_tables, rows_frame

NO_SPARK_VERSION = "no Spark version"


@dataclass(frozen=True)
class SparkSpec:
    """A model with a Spark version: the method it stands for and what it learns from."""

    method: str
    make: Callable[[], SparkFactorModel]
    trained_on: str  # delta: the rated reels' Delta; usage: every reel used, 1 each
    family: str = "model"


SPARK_MODELS: tuple[SparkSpec, ...] = (
    SparkSpec("biased_mf", SparkBiasedMF, "delta"),
    SparkSpec("als", SparkImplicitALS, "usage"),
)


def run_spark_scoring(
    spark: SparkSession,
    run_id: str,
    top_n: int,
    schema: str = "main",
    echo: Callable[[str], None] = print,
) -> list[str]:
    """Fit, evaluate and serve the models with a Spark version on the marts of `schema`; write
    the scores tables, with a model_runs row saying why for every model not fitted. Returns
    the methods left out for having no Spark version."""
    data = read_spark_scoring_data(spark, schema)
    top_n = min(top_n, data.n_items)
    echo(
        f"  {data.train_reels:,} training reels ({data.rated_train:,} with a Delta), "
        f"{data.n_items:,} songs"
    )
    create_score_tables(spark)
    fitted, skipped = spark_plan(data)
    for reason, methods in _by_reason(skipped).items():
        echo(f"  ! not fitted on Spark — {', '.join(methods)}: {reason}")
    runs = [_not_fitted_run(method, family, reason, run_id) for method, family, reason in skipped]
    for spec in fitted:
        run = score_spark_model(spec, data, top_n, run_id)
        echo(f"  {spec.method:<18} {run['fit_seconds'] + run['serve_seconds']:6.1f}s")
        runs.append(run)
    append_scores(rows_frame(spark, runs, "model_runs"), "model_runs")
    data.unpersist()
    return [method for method, _, reason in skipped if reason == NO_SPARK_VERSION]


def spark_plan(data: SparkScoringData) -> tuple[list[SparkSpec], list[tuple[str, str, str]]]:
    """The Spark models to fit, and (method, family, reason) of every model left out: the
    registry's models with no Spark version, and Spark models the data cannot feed."""
    if data.train_reels < MIN_TRAINING_RATINGS:
        count = f"{data.train_reels:,} training reels, fewer than {MIN_TRAINING_RATINGS}"
        reason = f"too few clean reels ({count})"
        every = [(spec.method, spec.family) for spec in MODELS] + _spark_only()
        return [], [(method, family, reason) for method, family in every]
    fitted, skipped = [], []
    for spec in SPARK_MODELS:
        if spec.trained_on == "delta" and data.implicit:
            skipped.append((spec.method, spec.family, _no_delta(data.rated_train)))
        else:
            fitted.append(spec)
    others = [(method, family, NO_SPARK_VERSION) for method, family in without_spark_version()]
    return fitted, skipped + others


def without_spark_version() -> list[tuple[str, str]]:
    """(method, family) of every model the DuckDB stage fits that has no Spark version."""
    ours = {spec.method for spec in SPARK_MODELS}
    others = [(spec.method, spec.family) for spec in MODELS if spec.method not in ours]
    return [*others, (NEW_INFLUENCER_METHOD, "model")]


def _spark_only() -> list[tuple[str, str]]:
    """The Spark models the registry does not list (e.g. als before it joins MODELS)."""
    known = {spec.method for spec in MODELS}
    spark_only = [(s.method, s.family) for s in SPARK_MODELS if s.method not in known]
    return spark_only + [(NEW_INFLUENCER_METHOD, "model")]


def _no_delta(rated: int) -> str:
    """registry.missing_inputs' words for data without enough Delta."""
    if rated == 0:
        return INPUTS["delta"]
    return f"only {rated:,} training reels have a Delta (fewer than {MIN_TRAINING_RATINGS})"


def score_spark_model(spec: SparkSpec, data: SparkScoringData, top_n: int, run_id: str) -> dict:
    """Evaluate one model, serve it, write its rows; returns its model_runs row."""
    learns = data.ratings if spec.trained_on == "delta" else data.usage
    start = time.perf_counter()
    model = spec.make().fit(learns("train"), n_items=data.n_items)
    fitted = time.perf_counter()
    n_test = 0
    if spec.trained_on == "delta":
        _write_predictions(data, model, spec.method)
        n_test = data.rated_test
    evaluation = model.recommend(data.evaluated, top_n, exclude=data.used("train"))
    _write_lists(data, model, evaluation, spec.method, "evaluation_recommendations", "warm")
    params, n_train = model.get_params(), model.n_ratings_
    model.unpersist()
    del model, evaluation
    _collect_garbage(data)
    scored = time.perf_counter()
    served = spec.make().set_params(**params).fit(learns(None), n_items=data.n_items)
    lists = served.recommend(data.influencers.select("user"), top_n, exclude=data.used(None))
    _write_lists(data, served, lists, spec.method, "recommendations")
    estimator = type(served).__name__
    served.unpersist()
    del served, lists
    _collect_garbage(data)
    done = time.perf_counter()
    return {
        "run_id": run_id,
        "method": spec.method,
        "family": spec.family,
        "params": json.dumps(
            {**params, "engine": "spark", "estimator": estimator},
            sort_keys=True,
        ),
        "data_fingerprint": run_id,
        "n_train": n_train,
        "n_test": n_test,
        "fit_seconds": fitted - start,
        "score_seconds": scored - fitted,
        "serve_seconds": done - scored,
        "trained_on": spec.trained_on,
        # No validation cut on Spark (scoring.selection): the run serves popularity first.
        "is_default": False,
    }


def _collect_garbage(data: SparkScoringData) -> None:
    """Let the JVM free a dropped model: MLlib's blocks, shuffles and broadcasts go only once
    its garbage collector sees them unreferenced (Python's handles first), and two 1M-rating
    fits' worth of them overran a 4g heap."""
    gc.collect()
    data.reels.sparkSession.sparkContext._jvm.System.gc()


def _write_predictions(data: SparkScoringData, model: SparkFactorModel, method: str) -> None:
    """The predicted Delta of every rated held-out reel (the RMSE rows)."""
    predicted = model.predict(data.ratings("test").select("user", "item"))
    append_scores(data.decoded(predicted.withColumn("method", F.lit(method))), "test_predictions")


def _write_lists(
    data: SparkScoringData,
    model: SparkFactorModel,
    lists: DataFrame,
    method: str,
    table: str,
    scenario: str | None = None,
) -> None:
    """Append a model's lists to `table`, ids for codes, scores as served (clipped when they
    are predicted Delta), no `because` (a factor model names no used song)."""
    frame = data.decoded(model.clip_scores(lists)).withColumn("method", F.lit(method))
    if scenario is not None:
        frame = frame.withColumn("scenario", F.lit(scenario))
    append_scores(frame, table)


def _not_fitted_run(method: str, family: str, reason: str, run_id: str) -> dict:
    return {
        "run_id": run_id,
        "method": method,
        "family": family,
        "data_fingerprint": run_id,
        "not_fitted_reason": reason,
        "is_default": False,
    }


def _by_reason(skipped: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    """{reason: [methods]}, in the order the reasons first come."""
    out: dict[str, list[str]] = {}
    for method, _, reason in skipped:
        out.setdefault(reason, []).append(method)
    return out
