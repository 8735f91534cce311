"""Matrix factorisation on Spark through MLlib ALS, with the estimators' method names.

The data are Spark DataFrames of integer codes, as the DuckDB models take Ratings of codes:
``fit(ratings)`` on columns (user, item, rating) returns self; ``predict(pairs)`` adds a
``prediction`` column; ``recommend(users, n, exclude=used)`` gives (user, rank, item, score),
ranked by score desc then item code asc (codes follow song_id, so ties go by song_id, as
DuckDB's lists do).

- ``SparkBiasedMF`` (the biased MF's role) is two-stage: the biases first, by the same
  alternating ridge rounds as ``baselines.fit_biases`` but as Spark aggregates, then MLlib ALS
  on what they leave (``implicitPrefs=False``). BiasedMF re-fits the biases inside each sweep;
  MLlib's ALS has no bias term, and fixing them first keeps the whole fit in MLlib and SQL.
  MLlib's ``regParam`` is ALS-WR's: a row's penalty grows with its ratings (lambda * n_u),
  unlike BiasedMF's one ``reg`` for every row.
- ``SparkImplicitALS`` (the usage ranker's role): Hu, Koren and Volinsky's ALS on usage
  (confidence 1 + alpha * r), ``implicitPrefs=True``; scores only order songs.

Songs are few next to influencers, so the fitted song side is collected (n_items x k) and
broadcast; each partition of users is scored in blocks of users x songs with numpy
(recommenders.topn), as MLlib's own ``recommendForAll`` blocks its products, but with the
biases and every used song left out. The influencer side stays a DataFrame.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pyarrow.compute as pc
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from sklearn.base import BaseEstimator

from models_py.spark.topn import top_n_in_blocks

PAIRS = ["user", "item"]


class SparkFactorModel(BaseEstimator):
    """score(u, i) = mu + b_u + b_i + p_u . q_i, fitted by MLlib ALS; subclasses say what the
    ALS is fitted on (``_target``) and how (``_als``)."""

    scores_are_ratings = True  # False: scores only order songs

    def fit(self, ratings: DataFrame, n_items: int | None = None) -> Self:
        """``n_items``: the size of the item code space (items never rated are still ranked,
        with no factors); by default the largest code + 1."""
        ratings = ratings.select(
            F.col("user").cast("int"), F.col("item").cast("int"), F.col("rating").cast("double")
        ).cache()
        stats = ratings.agg(
            F.avg("rating"), F.min("rating"), F.max("rating"), F.max("item"), F.count("*")
        ).first()
        self.n_items_ = int(n_items if n_items is not None else (stats[3] or -1) + 1)
        self.n_ratings_ = int(stats[4])
        self.global_mean_ = self._mean(stats[0])
        self.rating_range_ = (float(stats[1]), float(stats[2])) if stats[4] else (-np.inf, np.inf)
        user_bias, item_bias = self._biases(ratings)
        target = self._target(ratings, user_bias, item_bias)
        self.als_model_: ALSModel = self._als().fit(target)
        self.fitted_pairs_ = ratings.select(*PAIRS)
        # Computed now (fit's time is the fit's), plans cut like the bias rounds'.
        self.user_factors_ = _side(self.als_model_.userFactors, user_bias, "user").localCheckpoint()
        self.item_side_ = _side(self.als_model_.itemFactors, item_bias, "item").localCheckpoint()
        self.item_bias_, self.item_factors_ = _item_arrays(
            self.item_side_, self.n_items_, self.als_model_.rank
        )
        return self

    def _mean(self, mean: float | None) -> float:
        return 0.0

    def _biases(self, ratings: DataFrame) -> tuple[DataFrame | None, DataFrame | None]:
        return None, None

    def _target(
        self, ratings: DataFrame, user_bias: DataFrame | None, item_bias: DataFrame | None
    ) -> DataFrame:
        raise NotImplementedError

    def _als(self) -> ALS:
        raise NotImplementedError

    def predict(self, pairs: DataFrame, clip: bool = True) -> DataFrame:
        """``pairs`` with ``prediction``: the score of each (user, item). A user or item with no
        factors (never fitted) scores by what is known of it, as BiasedMF's do: mu, plus the
        biases it has."""
        users = self.user_factors_.toDF("user", "user_features", "user_bias")
        items = self.item_side_.toDF("item", "item_features", "item_bias")
        joined = pairs.join(users, "user", "left").join(F.broadcast(items), "item", "left")
        score = (
            F.lit(self.global_mean_)
            + F.coalesce(F.col("user_bias"), F.lit(0.0))
            + F.coalesce(F.col("item_bias"), F.lit(0.0))
            + F.coalesce(_dot(F.col("user_features"), F.col("item_features")), F.lit(0.0))
        )
        out = joined.withColumn("prediction", self._clipped(score) if clip else score)
        return out.select(*pairs.columns, "prediction")

    def _clipped(self, score: Column) -> Column:
        if not self.scores_are_ratings:
            return score
        low, high = self.rating_range_
        return F.least(F.greatest(score, F.lit(low)), F.lit(high))

    def clip_scores(self, frame: DataFrame, column: str = "score") -> DataFrame:
        """``recommend``'s scores as served: clipped like predictions when they are ratings."""
        return frame.withColumn(column, self._clipped(F.col(column)))

    def recommend(self, users: DataFrame, n: int, *, exclude: DataFrame | None = None) -> DataFrame:
        """Top-n items for each user of ``users`` (column user): (user, rank, item, score),
        ranks 1..n, fewer when fewer items remain. Left out: the (user, item) pairs of
        ``exclude``, by default the ratings fitted on (implicit's filter_already_liked_items)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if exclude is None:
            exclude = self.fitted_pairs_
        excluded = exclude.groupBy("user").agg(F.collect_list(F.col("item").cast("int")))
        k = self.als_model_.rank
        rows = (
            users.select(F.col("user").cast("int"))
            .distinct()
            .join(excluded.toDF("user", "excluded"), "user", "left")
            .join(self.user_factors_, "user", "left")
            .select(
                "user",
                F.coalesce("bias", F.lit(0.0)).alias("bias"),
                F.coalesce("features", F.array_repeat(F.lit(0.0).cast("float"), k)).alias(
                    "features"
                ),
                F.coalesce("excluded", F.array().cast("array<int>")).alias("excluded"),
            )
        )
        return top_n_in_blocks(
            rows, self.global_mean_, self.item_bias_, self.item_factors_, self.n_items_, n
        )

    def unpersist(self) -> None:
        """Release what the fit cached (the ratings, both fitted sides)."""
        for frame in (self.fitted_pairs_, self.user_factors_, self.item_side_):
            frame.unpersist()
        self.als_model_.userFactors.unpersist()
        self.als_model_.itemFactors.unpersist()


def _side(factors: DataFrame, bias: DataFrame | None, key: str) -> DataFrame:
    """(key, features, bias) of every user (or item) with factors or a bias; null where it has
    only one of them."""
    factors = factors.select(F.col("id").alias(key), "features")
    if bias is None:
        return factors.withColumn("bias", F.lit(0.0))
    return factors.join(bias.toDF(key, "bias"), key, "full")


def _item_arrays(items: DataFrame, n_items: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every item code's bias (n_items) and factors (n_items x k), zeros where unfitted."""
    table = items.where(F.col("item") < n_items).toArrow()
    code = table.column("item").to_numpy()
    bias, factors = np.zeros(n_items), np.zeros((n_items, k))
    bias[code] = table.column("bias").fill_null(0.0).to_numpy()
    features = table.column("features")
    fitted = pc.is_valid(features).to_numpy()
    flat = pc.list_flatten(features.filter(fitted))
    factors[code[fitted]] = flat.to_numpy().reshape(-1, k)
    return bias, factors


def _dot(a: Column, b: Column) -> Column:
    products = F.zip_with(a, b, lambda x, y: x.cast("double") * y.cast("double"))
    return F.aggregate(products, F.lit(0.0), lambda acc, x: acc + x)


class SparkBiasedMF(SparkFactorModel):
    """Explicit MF in the biased MF's role: r ~ mu + b_u + b_i + p_u . q_i. The biases are
    regularised means fitted first (``n_bias_iter`` alternating rounds, songs then users, as
    ``fit_biases``); MLlib ALS (``implicitPrefs=False``, rank ``n_factors``, ``regParam``
    ``reg``, ``n_iter`` sweeps) then fits the residuals r - mu - b_u - b_i."""

    def __init__(
        self,
        n_factors: int = 8,
        reg: float = 1.0,
        n_iter: int = 10,
        random_state: int = 0,
        reg_user_bias: float = 0.5,
        reg_item_bias: float = 15.0,
        n_bias_iter: int = 5,
    ) -> None:
        self.n_factors = n_factors
        self.reg = reg
        self.n_iter = n_iter
        self.random_state = random_state
        self.reg_user_bias = reg_user_bias
        self.reg_item_bias = reg_item_bias
        self.n_bias_iter = n_bias_iter

    def _mean(self, mean: float | None) -> float:
        return float(mean) if mean is not None else 0.0

    def _biases(self, ratings: DataFrame) -> tuple[DataFrame | None, DataFrame | None]:
        return regularised_biases(
            ratings,
            self.global_mean_,
            float(self.reg_user_bias),
            float(self.reg_item_bias),
            int(self.n_bias_iter),
        )

    def _target(
        self, ratings: DataFrame, user_bias: DataFrame | None, item_bias: DataFrame | None
    ) -> DataFrame:
        return _residuals(ratings, self.global_mean_, user_bias, item_bias)

    def _als(self) -> ALS:
        return ALS(
            rank=int(self.n_factors),
            maxIter=int(self.n_iter),
            regParam=float(self.reg),
            implicitPrefs=False,
            seed=int(self.random_state),
            coldStartStrategy="drop",
            userCol="user",
            itemCol="item",
            ratingCol="rating",
        )


class SparkImplicitALS(SparkFactorModel):
    """Implicit-feedback ALS in the usage ranker's role: preference 1 where a song was used,
    confidence 1 + ``alpha`` * r (r: the rating column, 1 per reel used), MLlib's
    ``implicitPrefs=True``; score p_u . q_i."""

    scores_are_ratings = False

    def __init__(
        self,
        n_factors: int = 32,
        reg: float = 0.1,
        alpha: float = 10.0,
        n_iter: int = 10,
        random_state: int = 0,
    ) -> None:
        self.n_factors = n_factors
        self.reg = reg
        self.alpha = alpha
        self.n_iter = n_iter
        self.random_state = random_state

    def _target(
        self, ratings: DataFrame, user_bias: DataFrame | None, item_bias: DataFrame | None
    ) -> DataFrame:
        return ratings

    def _als(self) -> ALS:
        return ALS(
            rank=int(self.n_factors),
            maxIter=int(self.n_iter),
            regParam=float(self.reg),
            implicitPrefs=True,
            alpha=float(self.alpha),
            seed=int(self.random_state),
            coldStartStrategy="drop",
            userCol="user",
            itemCol="item",
            ratingCol="rating",
        )


def regularised_biases(
    ratings: DataFrame, mu: float, reg_user: float, reg_item: float, n_iter: int
) -> tuple[DataFrame, DataFrame]:
    """(user, bias) and (item, bias) of r ~ mu + b_u + b_i by alternating ridge solves, as
    ``baselines.fit_biases`` computes them (items first each round); each round's biases are
    cached, so a round reads the ratings once instead of replaying the rounds before it."""
    resid = ratings.select("user", "item", (F.col("rating") - F.lit(mu)).alias("resid"))
    user_bias: DataFrame | None = None  # 0 for everyone before the first round
    item_bias: DataFrame | None = None
    for _ in range(n_iter):
        item_bias = _kept(_ridge_means(resid, user_bias, "user", "item", reg_item))
        user_bias = _kept(_ridge_means(resid, item_bias, "item", "user", reg_user))
    if user_bias is None or item_bias is None:  # n_iter = 0: no bias at all
        user_bias = ratings.select("user").distinct().withColumn("bias", F.lit(0.0))
        item_bias = ratings.select("item").distinct().withColumn("bias", F.lit(0.0))
    return user_bias, item_bias


def _ridge_means(
    resid: DataFrame, other_bias: DataFrame | None, other: str, key: str, reg: float
) -> DataFrame:
    """Per `key`: sum(resid - the other side's bias) / (count + reg)."""
    value = F.col("resid")
    if other_bias is not None:
        # Broadcast: one bias per user (or song) is small next to the ratings, and a shuffle
        # join would move every rating each round.
        resid = resid.join(F.broadcast(other_bias.toDF(other, "other_bias")), other, "left")
        value = value - F.coalesce(F.col("other_bias"), F.lit(0.0))
    return resid.groupBy(key).agg((F.sum(value) / (F.count("*") + F.lit(reg))).alias("bias"))


def _kept(frame: DataFrame) -> DataFrame:
    """`frame` computed and kept with its plan cut (a local checkpoint): the next round reads
    it instead of replaying every round before it, and, unlike a cached frame, it holds no
    executed plan (with its broadcast join tables) alive for the rest of the run."""
    return frame.localCheckpoint()


def _residuals(
    ratings: DataFrame, mu: float, user_bias: DataFrame, item_bias: DataFrame
) -> DataFrame:
    """The ratings less mu and both biases: what the factors are left to fit."""
    return (
        ratings.join(user_bias.toDF("user", "user_bias"), "user", "left")
        .join(F.broadcast(item_bias.toDF("item", "item_bias")), "item", "left")
        .select(
            "user",
            "item",
            (
                F.col("rating")
                - F.lit(mu)
                - F.coalesce("user_bias", F.lit(0.0))
                - F.coalesce("item_bias", F.lit(0.0))
            ).alias("rating"),
        )
    )
