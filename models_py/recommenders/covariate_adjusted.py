"""A meta-estimator that explains part of each rating by a per-influencer covariate first.

Delta = Curr_ER − ER: an account with a high usual ER tends to see lower lifts (regression to
the mean), one with a low ER higher ones. With ~8 reels per influencer a model cannot learn
each influencer's bias well, but their ER is known for everyone, so a linear term in ER
carries most of that bias; the wrapped model learns what is left.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.ranking import Ranker, Shifted


class CovariateAdjusted(RatingRecommender):
    """rating ≈ a + b·covariate[user] + estimator's prediction of the residual."""

    PARTS = {"covariate_": "influencer", "slope_": "settings", "intercept_": "settings"}
    PART_MODELS = ("estimator_",)

    def __init__(
        self,
        estimator: RatingRecommender | None = None,
        user_covariate: np.ndarray | None = None,
    ) -> None:
        self.estimator = estimator
        self.user_covariate = user_covariate

    def _covariate(self, n_users: int) -> np.ndarray:
        if self.user_covariate is None:
            return np.zeros(n_users)
        x = np.asarray(self.user_covariate, dtype=np.float64)
        if x.shape != (n_users,):
            raise ValueError(f"user_covariate must have one value per user ({n_users})")
        # Unknown covariate: the average one, so the term adds nothing for that user.
        return np.where(np.isfinite(x), x, np.nanmean(x) if np.isfinite(x).any() else 0.0)

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        self.covariate_ = self._covariate(ratings.n_users)
        x = self.covariate_[ratings.user]
        if len(ratings) > 1 and np.ptp(x) > 0:
            self.slope_, self.intercept_ = np.polyfit(x, ratings.rating, 1)
        else:
            self.slope_, self.intercept_ = (
                0.0,
                float(ratings.rating.mean()) if len(ratings) else 0.0,
            )
        residual = ratings.rating - self._trend(ratings.user)
        self.estimator_ = clone(self.estimator).fit(ratings.with_rating(residual))

    def _trend(self, user: np.ndarray) -> np.ndarray:
        return self.intercept_ + self.slope_ * self.covariate_[user]

    def _part_used(self, attr: str, used: sp.csr_matrix) -> sp.csr_matrix:
        """The estimator was fitted on the residuals of the trend."""
        rows = np.repeat(np.arange(used.shape[0]), np.diff(used.indptr))
        residual = used.copy()
        residual.data = used.data - self._trend(rows)
        return residual

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        # The residual unclipped: predict() clips the whole prediction, not its parts.
        return self._trend(user) + self.estimator_.predict(user, item, clip=False)

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return self._trend(users)[:, None] + self.estimator_._score_block(users)

    def ranker(self) -> Ranker | None:
        """The estimator's ranking: a trend constant per user does not reorder a user's songs."""
        inner = self.estimator_.ranker()
        return None if inner is None else Shifted(inner, self._trend)
