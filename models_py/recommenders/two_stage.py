"""The two-stage ranker: a usage ranker's shortlist, re-ranked with a model's predicted lift.

The question the report asks is "which song will lift this influencer's engagement". Usage
rankers know which songs an influencer is likely to use; a rating model (er_biased_mf) knows
which songs lifted engagement. Stage one takes the usage ranker's top ``n_candidates`` unused
songs; stage two orders them by (1 - weight) x usage score + weight x predicted lift, each
standardised over the influencer's own shortlist so the blend mixes orderings, not units.
``weight`` only changes the second stage, so tuning.tune_ranking tries all its values on one
fit (``recommend_each``). Predicted Delta (RMSE) is the lift model's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.hybrid import row_standardise
from models_py.recommenders.ranking import TopN, empty_top_n
from models_py.recommenders.topn import top_n

MAX_CANDIDATES = 1_000  # a shortlist longer than this is no longer a shortlist
BLOCK_USERS = 8_192  # users per block: shortlists and their lift predictions stay small


@dataclass(frozen=True)
class Shortlists:
    """A block of users' shortlists, each sorted by song code (ties then go to the lower
    code), with both stages' scores standardised over the row's valid cells."""

    songs: np.ndarray  # int32 (users, c), -1 padding
    valid: np.ndarray  # bool (users, c)
    usage: np.ndarray  # float64 (users, c), -inf where not valid
    lift: np.ndarray  # float64 (users, c), -inf where not valid

    def top_n(self, weight: float, n: int) -> TopN:
        mix = (1.0 - weight) * np.where(self.valid, self.usage, 0.0)
        mix += weight * np.where(self.valid, self.lift, 0.0)
        local, vals = top_n(np.where(self.valid, mix, -np.inf), n, overwrite=True)
        ids = np.take_along_axis(self.songs, np.maximum(local, 0), axis=1)
        return np.where(local >= 0, ids, -1).astype(np.int32), vals


class TwoStageRanker(RatingRecommender):
    """Top ``n_candidates`` of ``candidates`` (a usage ranker), re-ranked by a ``weight``ed
    blend with ``lift``'s predicted Delta (see the module docstring)."""

    scoring_params = ("weight",)
    scores_are_ratings = False  # a mix of standardised scores
    PART_MODELS = ("candidates_", "lift_")

    def __init__(
        self,
        candidates: RatingRecommender | None = None,
        lift: RatingRecommender | None = None,
        weight: float = 0.5,
        n_candidates: int = 100,
    ) -> None:
        self.candidates = candidates
        self.lift = lift
        self.weight = weight
        self.n_candidates = n_candidates

    def fit(self, ratings: Ratings) -> TwoStageRanker:
        if self.candidates is None or self.lift is None:
            raise ValueError("TwoStageRanker needs a candidates and a lift model")
        if not 0.0 <= float(self.weight) <= 1.0:
            raise ValueError("weight must be in [0, 1]")
        if not 1 <= int(self.n_candidates) <= MAX_CANDIDATES:
            raise ValueError(f"n_candidates must be in [1, {MAX_CANDIDATES}]")
        return super().fit(ratings)

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        self.candidates_ = clone(self.candidates).fit(ratings)
        self.lift_ = clone(self.lift).fit(ratings)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.lift_.predict(user, item, clip=False)

    def _shortlists(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> Shortlists:
        """Stage one for a block of users: the candidates' lists, with both stages' scores."""
        width = min(max(n, int(self.n_candidates)), self.n_items_)
        ids, usage = self.candidates_.recommend(
            users, width, exclude_used=excluded is not None, candidates=shelf, exclude=excluded
        )
        order = np.argsort(ids, axis=1, kind="stable")  # by song code; padding (-1) first
        songs = np.take_along_axis(ids, order, axis=1)
        usage = np.take_along_axis(usage, order, axis=1)
        valid = songs >= 0
        lift = np.full(songs.shape, np.nan)
        rows = np.broadcast_to(users[:, None], songs.shape)
        lift[valid] = self.lift_.predict(rows[valid], songs[valid], clip=False)
        usage = row_standardise(np.where(valid, usage, np.nan))
        return Shortlists(songs, valid, usage, row_standardise(lift))

    def _blocks(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ):
        for s in range(0, users.size, BLOCK_USERS):
            yield s, self._shortlists(users[s : s + BLOCK_USERS], n, excluded, shelf)

    def _rank(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> TopN:
        ids, vals = empty_top_n(users.size, n)
        for s, block in self._blocks(users, n, excluded, shelf):
            ids[s : s + BLOCK_USERS], vals[s : s + BLOCK_USERS] = block.top_n(self.weight, n)
        return ids, vals

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        """Every song's blended score for a block of users: -inf off the shortlist (which
        leaves out the songs used at fit, as ``recommend`` does by default)."""
        block = self._shortlists(users, int(self.n_candidates), self.used_, None)
        mix = (1.0 - self.weight) * block.usage + self.weight * block.lift
        out = np.full((users.size, self.n_items_), -np.inf)
        rows = np.broadcast_to(np.arange(users.size)[:, None], block.songs.shape)
        out[rows[block.valid], block.songs[block.valid]] = mix[block.valid]
        return out

    def recommend_each(
        self, users: np.ndarray, n: int, settings: Sequence[Mapping[str, Any]]
    ) -> list[TopN]:
        """One shortlist per user, re-ranked under each weight of ``settings``."""
        users = self._user_codes(users, n)
        out = [empty_top_n(users.size, n) for _ in settings]
        for s, block in self._blocks(users, n, self.used_, None):
            for (ids, vals), params in zip(out, settings, strict=True):
                self.set_params(**params)
                ids[s : s + BLOCK_USERS], vals[s : s + BLOCK_USERS] = block.top_n(
                    float(self.weight), n
                )
        return out
