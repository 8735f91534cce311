"""The planted model as a recommender: the best any model could do on generated data.

Reads the generator's truth (never an input to a real model). Its predictions are the planted
Delta = mu + b_u + b_i + p_u·q_i, so its RMSE is the noise floor sigma. Its rankings follow
the planted usage model (synth/usage.py): held-out songs must first be *used*, so the best
ranking of "what will this influencer use" is by the usage log-weight
log w_ui = s_i + genre_alpha p_u·g_i + affinity_alpha p_u·q_i (P(used) rises with it); for
relevance "lifted" (used and Delta > lift_threshold) add log P(Delta > t) = log Phi((Delta_hat
- t) / sigma), the lift being independent of the choice given the taste.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import log_ndtr

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.ranking import TopN, empty_top_n
from models_py.recommenders.separable_rank import SeparableRanker, rank_index
from models_py.recommenders.topn import block_rows, mask_excluded, top_entries

RANKINGS = ("lifted", "used", "delta")
NEVER_USED = -1e9  # log-weight of a song the truth does not know (finite: scores are stored)
# The most used songs whose "lifted" scores set the floor below which a song's usage term
# rules it out of a list (PlantedModel._lifted_top_n): a few hundred keep most songs out.
FLOOR_SONGS = 256
FLOOR_PER_ROW = 4  # and each user's songs of highest usage per list place, for a tighter floor


def _aligned(
    frame: pd.DataFrame, key: str, ids: np.ndarray, prefix: str = "factor_"
) -> tuple[np.ndarray, np.ndarray]:
    """(bias, factors) rows in the order of `ids`; ids absent from the truth get zeros."""
    factor_columns = sorted(c for c in frame.columns if c.startswith(prefix))
    indexed = frame.set_index(key).reindex(ids)
    bias = indexed["bias"].fillna(0.0).to_numpy(np.float64)
    factors = indexed[factor_columns].fillna(0.0).to_numpy(np.float64)
    return bias, factors


def _usage_terms(
    songs: pd.DataFrame, ids: np.ndarray, usage: dict | None, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(per-song log-weight s_i, genre_alpha * g_i) in the order of `ids`. Truth written before
    the usage model was recorded: popularity alone (its affinity term is the p.q one)."""
    if usage is None:
        log_weight = np.log(songs.set_index("song_id")["popularity"].reindex(ids))
        return log_weight.fillna(NEVER_USED).to_numpy(np.float64), np.zeros((ids.size, k))
    indexed = songs.drop(columns="bias").rename(columns={"usage_log_weight": "bias"})
    log_weight, genre = _aligned(indexed, "song_id", ids, prefix="genre_factor_")
    # A hash lookup: np.isin sorts object (string) arrays, 6 s for the default catalogue.
    absent = ~pd.Index(ids).isin(songs["song_id"])
    log_weight = np.where(absent, NEVER_USED, log_weight)  # never planted: never used
    return log_weight, usage["genre_alpha"] * genre


class PlantedModel(RatingRecommender):
    """Predicts with the generator's planted parameters; `fit` only learns what was used.

    ``ranking``: "lifted" ranks by P(used and lifted), "used" by P(used), "delta" by the
    predicted Delta alone (what the planted model would rank by if usage were not planted).
    """

    def __init__(
        self,
        truth_dir: str = "data/truth",
        influencer_ids: np.ndarray | None = None,
        song_ids: np.ndarray | None = None,
        include_factors: bool = True,
        ranking: str = "lifted",
        lift_threshold: float = 0.0,
    ) -> None:
        self.truth_dir = truth_dir
        self.influencer_ids = influencer_ids
        self.song_ids = song_ids
        # Without factors: what perfect knowledge of the biases alone achieves, a floor that
        # ratings-only models can approach on sparse data, unlike the full planted model.
        self.include_factors = include_factors
        self.ranking = ranking
        self.lift_threshold = lift_threshold

    @property
    def scores_are_ratings(self) -> bool:  # type: ignore[override]
        return self.ranking == "delta"

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        if self.ranking not in RANKINGS:
            raise ValueError(f"ranking must be one of {RANKINGS}, got {self.ranking!r}")
        truth = Path(self.truth_dir)
        params = json.loads((truth / "params.json").read_text())
        self.mu_, self.sigma_ = float(params["mu"]), float(params["sigma"])
        influencers = pd.read_parquet(truth / "influencers.parquet")
        songs = pd.read_parquet(truth / "songs.parquet")
        song_ids = np.asarray(self.song_ids)
        self.user_bias_, self.user_factors_ = _aligned(
            influencers, "influencer_id", np.asarray(self.influencer_ids)
        )
        self.item_bias_, self.item_factors_ = _aligned(songs, "song_id", song_ids)
        usage = params.get("usage")
        self.affinity_alpha_ = float(
            usage["affinity_alpha"] if usage else params["model"]["affinity_alpha"]
        )
        self.song_log_weight_, self.item_genre_ = _usage_terms(
            songs, song_ids, usage, self.item_factors_.shape[1]
        )
        if not self.include_factors:
            self.user_bias_ = self.user_bias_ + self._used_interaction(csr)
            self.user_factors_ = np.zeros_like(self.user_factors_)

    def _used_interaction(self, csr: sp.csr_matrix) -> np.ndarray:
        """Each influencer's mean planted p_u·q_i over the songs they used in training (the
        mean over all used pairs for one who used none). Usage follows taste, so used songs
        have p_u·q_i > 0 on average: a learnt influencer bias absorbs that, and so must the
        biases-alone oracle to stay the floor of the bias models."""
        coo = csr.tocoo()
        dots = np.einsum("ij,ij->i", self.user_factors_[coo.row], self.item_factors_[coo.col])
        n = np.bincount(coo.row, minlength=csr.shape[0])
        overall = float(dots.mean()) if dots.size else 0.0
        sums = np.bincount(coo.row, dots, minlength=csr.shape[0])
        return np.where(n > 0, sums / np.maximum(n, 1), overall)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        interaction = np.einsum("ij,ij->i", self.user_factors_[user], self.item_factors_[item])
        return self.mu_ + self.user_bias_[user] + self.item_bias_[item] + interaction

    def ranker(self) -> SeparableRanker | None:
        """Biases alone ranked by Delta: mu + b_u + b_i, the separable ranker's scores (its
        factor term is zeros, which adds nothing); every other ranking is dense."""
        if self.ranking != "delta" or self.include_factors:
            return None
        order, norm_after = rank_index(self.item_bias_, None)
        return SeparableRanker(self.mu_, self.user_bias_, self.item_bias_, order, norm_after)

    def _interaction_block(self, users: np.ndarray) -> np.ndarray:
        """p_u·q_i of a block: one product, shared by the Delta and the usage terms."""
        return self.user_factors_[users] @ self.item_factors_.T

    def _delta_block(self, users: np.ndarray, interaction: np.ndarray) -> np.ndarray:
        return self.mu_ + self.user_bias_[users, None] + self.item_bias_[None, :] + interaction

    def _usage_block(self, users: np.ndarray, interaction: np.ndarray) -> np.ndarray:
        """The usage log-weight s_i + genre_alpha p_u·g_i + affinity_alpha p_u·q_i."""
        score = self.song_log_weight_[None, :] + self.user_factors_[users] @ self.item_genre_.T
        score += self.affinity_alpha_ * interaction
        return score

    def _lift(self, delta: np.ndarray) -> np.ndarray:
        """log P(Delta > lift_threshold): never above 0."""
        return log_ndtr((delta - self.lift_threshold) / self.sigma_)

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        interaction = self._interaction_block(users)
        if self.ranking == "delta":
            return self._delta_block(users, interaction)
        score = self._usage_block(users, interaction)
        if self.ranking == "lifted":
            score += self._lift(self._delta_block(users, interaction))
        return score

    def _rank(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> TopN:
        """The dense ranking; for "lifted", without the lift term (most of its cost) on songs
        that cannot make a list (_lifted_top_n)."""
        if self.ranking != "lifted" or n == 0:
            return super()._rank(users, n, excluded, shelf)
        songs = np.argsort(-self.song_log_weight_, kind="stable")
        if shelf is not None:
            songs = songs[shelf[songs]]
        floor_songs = songs[:FLOOR_SONGS]
        ids, vals = empty_top_n(users.size, n)
        step = block_rows(self.n_items_)  # the dense ranking's blocks: the same products
        for s in range(0, users.size, step):
            block = users[s : s + step]
            left_out = excluded[block] if excluded is not None else None
            ids[s : s + step], vals[s : s + step] = self._lifted_top_n(
                block, n, left_out, shelf, floor_songs
            )
        return ids, vals

    def _lifted_top_n(
        self,
        users: np.ndarray,
        n: int,
        excluded: sp.csr_matrix | None,
        shelf: np.ndarray | None,
        floor_songs: np.ndarray,
    ) -> TopN:
        """top_n of _score_block's "lifted" scores, the same floats. The lift term is never
        above 0, so a song's usage term bounds its score: the n-th best score among
        `floor_songs` (the most used) is a floor, and a song whose usage is below it cannot
        make the list. Only the songs at or above it get their lift term and are ranked."""
        interaction = self._interaction_block(users)
        usage = self._usage_block(users, interaction)
        if shelf is not None:
            usage[:, ~shelf] = -np.inf
        mask_excluded(usage, excluded)
        floor = np.maximum(
            self._nth_score(users, usage, interaction, floor_songs, n),
            self._own_nth_score(users, usage, interaction, n),
        )
        row, col = np.nonzero((usage >= floor[:, None]) & (usage > -np.inf))
        score = self._scores_at(users, usage, interaction, row, col)
        ok = score > -np.inf  # as in the dense ranking, -inf is never listed
        row, col, score = top_entries(row[ok], col[ok], score[ok], n, col_sorted=True)
        ids, vals = empty_top_n(users.size, n)
        place = np.arange(row.size) - np.searchsorted(row, row)
        ids[row, place], vals[row, place] = col, score
        return ids, vals

    def _nth_score(
        self,
        users: np.ndarray,
        usage: np.ndarray,
        interaction: np.ndarray,
        songs: np.ndarray,
        n: int,
    ) -> np.ndarray:
        """Per row, the n-th best "lifted" score among `songs` (-inf: fewer than n listed)."""
        if songs.size < n:
            return np.full(usage.shape[0], -np.inf)
        row = np.repeat(np.arange(usage.shape[0]), songs.size)
        col = np.tile(songs, usage.shape[0])
        score = self._scores_at(users, usage, interaction, row, col).reshape(-1, songs.size)
        return -np.partition(-score, n - 1, axis=1)[:, n - 1]

    def _own_nth_score(
        self, users: np.ndarray, usage: np.ndarray, interaction: np.ndarray, n: int
    ) -> np.ndarray:
        """Per row, the n-th best "lifted" score among its FLOOR_PER_ROW x n songs of highest
        usage (-inf: fewer than n listed): a tighter floor than the most used songs'."""
        m = min(usage.shape[1], FLOOR_PER_ROW * n)
        if m < n or m == usage.shape[1]:
            return np.full(usage.shape[0], -np.inf)
        best = np.argpartition(-usage, m - 1, axis=1)[:, :m]
        row = np.repeat(np.arange(usage.shape[0]), m)
        score = self._scores_at(users, usage, interaction, row, best.ravel()).reshape(-1, m)
        return -np.partition(-score, n - 1, axis=1)[:, n - 1]

    def _scores_at(
        self,
        users: np.ndarray,
        usage: np.ndarray,
        interaction: np.ndarray,
        row: np.ndarray,
        col: np.ndarray,
    ) -> np.ndarray:
        """_score_block's "lifted" floats at cells (row, col) of a block (-inf left out)."""
        bound = usage[row, col]
        delta = self._delta_cells(users[row], col, interaction[row, col])
        return np.where(bound > -np.inf, bound + self._lift(delta), -np.inf)

    def _delta_cells(
        self, users: np.ndarray, items: np.ndarray, interaction: np.ndarray
    ) -> np.ndarray:
        """_delta_block's floats at (users[k], items[k]), the same operations in order."""
        return self.mu_ + self.user_bias_[users] + self.item_bias_[items] + interaction
