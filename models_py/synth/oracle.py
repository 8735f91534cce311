"""The planted model as a recommender: the best any model could do on generated data.

Reads the generator's truth (never an input to a real model): Delta = mu + b_u + b_i + p_u·q_i.
Its RMSE is the noise floor sigma; its rankings are the best possible by predicted lift.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings


def _aligned(frame: pd.DataFrame, key: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bias, factors) rows in the order of `ids`; ids absent from the truth get zeros."""
    factor_columns = sorted(c for c in frame.columns if c.startswith("factor_"))
    indexed = frame.set_index(key).reindex(ids)
    bias = indexed["bias"].fillna(0.0).to_numpy(np.float64)
    factors = indexed[factor_columns].fillna(0.0).to_numpy(np.float64)
    return bias, factors


class PlantedModel(RatingRecommender):
    """Predicts with the generator's planted parameters; `fit` only learns what was used."""

    def __init__(
        self,
        truth_dir: str = "data/truth",
        influencer_ids: np.ndarray | None = None,
        song_ids: np.ndarray | None = None,
        include_factors: bool = True,
    ) -> None:
        self.truth_dir = truth_dir
        self.influencer_ids = influencer_ids
        self.song_ids = song_ids
        # Without factors: what perfect knowledge of the biases alone achieves, a floor that
        # ratings-only models can approach on sparse data, unlike the full planted model.
        self.include_factors = include_factors

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        truth = Path(self.truth_dir)
        self.mu_ = float(json.loads((truth / "params.json").read_text())["mu"])
        influencers = pd.read_parquet(truth / "influencers.parquet")
        songs = pd.read_parquet(truth / "songs.parquet")
        self.user_bias_, self.user_factors_ = _aligned(
            influencers, "influencer_id", np.asarray(self.influencer_ids)
        )
        self.item_bias_, self.item_factors_ = _aligned(songs, "song_id", np.asarray(self.song_ids))
        if not self.include_factors:
            self.user_factors_ = np.zeros_like(self.user_factors_)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        interaction = np.einsum("ij,ij->i", self.user_factors_[user], self.item_factors_[item])
        return self.mu_ + self.user_bias_[user] + self.item_bias_[item] + interaction

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return (
            self.mu_
            + self.user_bias_[users, None]
            + self.item_bias_[None, :]
            + self.user_factors_[users] @ self.item_factors_.T
        )
