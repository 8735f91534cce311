"""The Spark models (MLlib ALS) against dense numpy references on a small planted matrix:
the biases are fit_biases', the factors minimise what MLlib says it minimises, and the lists
are the exact top-n with the used songs left out."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.data import Ratings
from tests.spark_refs import als_wr, implicit_als, ranked
from tests.spark_session import spark_run

pytestmark = pytest.mark.spark
pyspark = pytest.importorskip("pyspark")

N_USERS, N_RATED_ITEMS, N_ITEMS, K = 40, 25, 27, 2  # items 25 and 26 never rated
# Sweeps enough for MLlib to reach the optimum from its own random start: the references run
# 200, by which they have converged (< 1e-6 from 400 sweeps); here 40 sweeps from another start
# come within 5e-5 (explicit) and 4e-4 (implicit, reg 1) of them.
SWEEPS = 40
# ~1e-3 of the ratings' spread (1.6) leaves room for MLlib's float32 factors and unconverged
# digits, and is 10x below the gap to the same ALS with the penalty not scaled by n_u.
TOLERANCE = 2e-3


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with spark_run(tmp_path_factory.mktemp("spark")) as run:
        yield run.spark


@pytest.fixture(scope="module")
def planted() -> tuple[np.ndarray, np.ndarray]:
    """(ratings users x items, observed mask): biases + rank-2 taste + noise, half observed."""
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(N_USERS, K)), rng.normal(size=(N_RATED_ITEMS, K))
    full = 1 + rng.normal(size=(N_USERS, 1)) + 0.5 * rng.normal(size=(1, N_RATED_ITEMS))
    full = full + p @ q.T + 0.3 * rng.normal(size=full.shape)
    observed = rng.random(full.shape) < 0.5
    pad = np.zeros((N_USERS, N_ITEMS - N_RATED_ITEMS))
    return np.hstack([full, pad]), np.hstack([observed, pad.astype(bool)])


def frame(spark: object, **columns: np.ndarray) -> object:
    import pyarrow as pa

    return spark.createDataFrame(pa.table(columns))


def rating_frame(spark: object, values: np.ndarray, observed: np.ndarray) -> object:
    user, item = np.nonzero(observed)
    return frame(
        spark, user=user.astype(np.int32), item=item.astype(np.int32), rating=values[user, item]
    )


def every_pair(spark: object) -> object:
    user, item = np.meshgrid(np.arange(N_USERS), np.arange(N_ITEMS), indexing="ij")
    return frame(spark, user=user.ravel().astype(np.int32), item=item.ravel().astype(np.int32))


def as_matrix(pandas_frame: object, column: str) -> np.ndarray:
    ordered = pandas_frame.sort_values(["user", "item"])
    return ordered[column].to_numpy().reshape(N_USERS, N_ITEMS)


@pytest.fixture(scope="module")
def explicit(spark: object, planted: tuple[np.ndarray, np.ndarray]) -> object:
    from models_py.spark.models import SparkBiasedMF

    ratings = rating_frame(spark, *planted)
    return SparkBiasedMF(n_factors=K, reg=0.05, n_iter=SWEEPS).fit(ratings, n_items=N_ITEMS)


def reference_biases(planted: tuple[np.ndarray, np.ndarray]) -> tuple[float, np.ndarray, ...]:
    values, observed = planted
    user, item = np.nonzero(observed)
    ratings = Ratings(user, item, values[user, item], N_USERS, N_ITEMS)
    mu = float(ratings.rating.mean())
    return mu, *fit_biases(ratings, mu, 0.5, 15.0, 5)


def test_explicit_biases_are_fit_biases(explicit: object, planted: tuple) -> None:
    mu, b_u, b_i = reference_biases(planted)
    assert explicit.global_mean_ == pytest.approx(mu, abs=1e-12)
    np.testing.assert_allclose(explicit.item_bias_, b_i, atol=1e-12)
    users = explicit.user_factors_.toPandas().set_index("user")["bias"]
    np.testing.assert_allclose(users.sort_index().to_numpy(), b_u, atol=1e-12)


def test_explicit_predictions_are_mllib_als_wr_on_the_bias_residuals(
    spark: object, explicit: object, planted: tuple
) -> None:
    values, observed = planted
    mu, b_u, b_i = reference_biases(planted)
    baseline = mu + b_u[:, None] + b_i[None, :]
    residual = np.where(observed, values - baseline, 0.0)
    got = as_matrix(explicit.predict(every_pair(spark), clip=False).toPandas(), "prediction")
    want = baseline + als_wr(residual, observed, K, 0.05, 200, weighted=True)
    unweighted = baseline + als_wr(residual, observed, K, 0.05, 200, weighted=False)
    assert np.abs(got - want).max() < TOLERANCE
    assert np.abs(unweighted - want).max() > 10 * TOLERANCE  # the tolerance tells them apart
    clipped = as_matrix(explicit.predict(every_pair(spark)).toPandas(), "prediction")
    low, high = values[observed].min(), values[observed].max()
    np.testing.assert_allclose(clipped, np.clip(got, low, high))


@pytest.mark.parametrize("n", [5, N_ITEMS])
def test_explicit_lists_are_the_exact_top_n_of_unused_songs(
    spark: object, explicit: object, planted: tuple, n: int
) -> None:
    _, observed = planted
    # One user with no ratings at all (a cold influencer) and the rest; item 0 also left out.
    extra = np.zeros_like(observed)
    extra[:, 0] = True
    excluded = observed | extra
    user, item = np.nonzero(excluded)
    used = frame(spark, user=user.astype(np.int32), item=item.astype(np.int32))
    users = frame(spark, user=np.arange(N_USERS, dtype=np.int32))
    lists = explicit.recommend(users, n, exclude=used).toPandas()
    scores = as_matrix(explicit.predict(every_pair(spark), clip=False).toPandas(), "prediction")
    want = ranked(scores, excluded, n)
    for u, expected in enumerate(want):
        mine = lists[lists["user"] == u].sort_values("rank")
        assert mine["rank"].tolist() == list(range(1, len(expected) + 1))
        assert mine["item"].tolist() == expected
        np.testing.assert_allclose(mine["score"], scores[u, expected], atol=1e-9)


def test_default_exclusion_is_the_songs_fitted_on(
    spark: object, explicit: object, planted: tuple
) -> None:
    _, observed = planted
    users = frame(spark, user=np.arange(N_USERS, dtype=np.int32))
    lists = explicit.recommend(users, 3).toPandas()
    assert len(lists) == 3 * N_USERS
    assert not observed[lists["user"], lists["item"]].any()


def test_implicit_als_is_hkv_als_as_mllib_states_it(spark: object, planted: tuple) -> None:
    from models_py.spark.models import SparkImplicitALS

    _, observed = planted
    counts = observed.astype(float)
    model = SparkImplicitALS(n_factors=K, reg=1.0, alpha=10.0, n_iter=SWEEPS)
    model.fit(rating_frame(spark, counts, observed), n_items=N_ITEMS)
    got = as_matrix(model.predict(every_pair(spark)).toPandas(), "prediction")
    want = implicit_als(counts, K, 1.0, 10.0, 200, weighted=True)
    unweighted = implicit_als(counts, K, 1.0, 10.0, 200, weighted=False)
    assert np.abs(got - want).max() < TOLERANCE
    assert np.abs(unweighted - want).max() > 10 * TOLERANCE
    users = frame(spark, user=np.arange(N_USERS, dtype=np.int32))
    lists = model.recommend(users, 4).toPandas()
    for u, expected in enumerate(ranked(got, observed, 4)):
        assert lists[lists["user"] == u].sort_values("rank")["item"].tolist() == expected
