"""The Spark warehouse's clean split, coded as the DuckDB scoring stage codes it.

Codes are positions in the sorted ids (scoring.codes' numbering, by the same byte order), so a
code means the same influencer or song on both engines and MLlib gets the integer ids it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from models_py.scoring.data import MIN_TRAINING_RATINGS


@dataclass(frozen=True)
class SparkScoringData:
    """The split as codes (cached DataFrames), and the tables to turn codes back into ids."""

    influencers: DataFrame  # influencer_id, user
    songs: DataFrame  # song_id, item
    reels: DataFrame  # user, item, is_train, delta (NULL: no rating): every clean reel
    evaluated: DataFrame  # user: judged by the ranking metrics (evaluation_influencers)
    n_items: int
    rated_train: int  # training reels with a Delta
    rated_test: int  # held-out reels with a Delta
    train_reels: int  # training reels, rated or not

    @property
    def implicit(self) -> bool:
        """Too few rated training reels to learn Delta from (scoring.data's rule)."""
        return self.rated_train < MIN_TRAINING_RATINGS

    def ratings(self, split: str | None) -> DataFrame:
        """(user, item, rating = Delta) of the rated reels of `split` ('train', 'test'; None:
        every reel), what the explicit model learns from and is judged on."""
        return (
            self._of(split)
            .where(F.col("delta").isNotNull())
            .select("user", "item", F.col("delta").alias("rating"))
        )

    def usage(self, split: str | None) -> DataFrame:
        """(user, item, rating = 1) of every reel of `split` used, rated or not."""
        return self._of(split).select("user", "item", F.lit(1.0).alias("rating"))

    def used(self, split: str | None) -> DataFrame:
        """(user, item) of every reel of `split`: never recommended back."""
        return self._of(split).select("user", "item")

    def _of(self, split: str | None) -> DataFrame:
        if split is None:
            return self.reels
        return self.reels.where(F.col("is_train") == (split == "train"))

    def decoded(self, frame: DataFrame) -> DataFrame:
        """`frame` with its user and item codes replaced by influencer_id and song_id."""
        return (
            frame.join(F.broadcast(self.songs), "item", "left")
            .join(self.influencers, "user", "left")
            .drop("user", "item")
        )

    def unpersist(self) -> None:
        for frame in (self.influencers, self.songs, self.reels, self.evaluated):
            frame.unpersist()


def coded(table: DataFrame, id_column: str, code: str) -> DataFrame:
    """Each id of `table` with its position in id order from 0 (DuckDB's CODES)."""
    position = F.row_number().over(Window.orderBy(id_column)) - 1
    return table.select(id_column, position.cast("int").alias(code))


def read_spark_scoring_data(spark: SparkSession, schema: str = "main") -> SparkScoringData:
    """The marts of `schema` (built by dbt on Spark) as codes, cached."""
    influencers = coded(spark.table(f"{schema}.influencers"), "influencer_id", "user").cache()
    songs = coded(spark.table(f"{schema}.songs"), "song_id", "item").cache()
    reels = (
        spark.table(f"{schema}.evaluation_splits")
        .join(influencers, "influencer_id")
        .join(F.broadcast(songs), "song_id")
        .select(
            "user",
            "item",
            (F.col("split") == "train").alias("is_train"),
            F.col("delta").cast("double"),
        )
        .cache()
    )
    rated = F.col("delta").isNotNull()
    counts = reels.agg(
        F.count_if(F.col("is_train") & rated),
        F.count_if(~F.col("is_train") & rated),
        F.count_if(F.col("is_train")),
    ).first()
    evaluated = (
        spark.table(f"{schema}.evaluation_influencers")
        .join(influencers, "influencer_id")
        .select("user")
        .cache()
    )
    return SparkScoringData(
        influencers,
        songs,
        reels,
        evaluated,
        songs.count(),
        *(int(c or 0) for c in counts),
    )
