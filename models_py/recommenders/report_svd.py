"""The report's "SVD" model (section 4.4): truncated SVD of the zero-filled rating pivot.

Report code: ``u, s, vt = svds(train_data_matrix, k=100); X_pred = u @ diag(s) @ vt``. The
unobserved cells are fitted as ratings of 0, so predictions shrink towards 0, not towards the
user's level. Reproduced exactly, but only the requested cells of ``X_pred`` are formed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from models_py.recommenders.base import RatingRecommender, row_dot
from models_py.recommenders.data import Ratings


class ReportSVD(RatingRecommender):
    """Rank-``n_factors`` truncated SVD (ARPACK, like the report) of the zero-filled train CSR."""

    def __init__(self, n_factors: int = 100, random_state: int | None = 0) -> None:
        self.n_factors = n_factors
        self.random_state = random_state

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        k = int(self.n_factors)
        if not 0 < k < min(csr.shape):
            raise ValueError(f"n_factors must be in [1, {min(csr.shape) - 1}] for this matrix")
        u, s, vt = svds(csr.astype(np.float64), k=k, random_state=self.random_state)
        self.singular_values_ = s
        self.user_factors_ = u * s  # U diag(s)
        self.item_factors_ = np.ascontiguousarray(vt.T)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return row_dot(self.user_factors_, user, self.item_factors_, item)

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T
