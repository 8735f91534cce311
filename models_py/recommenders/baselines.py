"""Non-personalised and bias-only baselines."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.ranking import TopN, empty_top_n
from models_py.recommenders.separable_rank import SeparableRanker, rank_index, separable_scores
from models_py.recommenders.topn import block_rows, top_n_of_songs


def fit_biases(
    ratings: Ratings, mu: float, reg_user: float, reg_item: float, n_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """b_u, b_i of r ~ mu + b_u + b_i by alternating ridge solves (Koren's baseline estimates).

    Each half-step is the exact minimiser for one side given the other, so the penalised loss
    never increases; users/items without ratings keep a bias of 0 (the prior).
    """
    u, i, resid = ratings.user, ratings.item, ratings.rating - mu
    den_u = reg_user + np.bincount(u, minlength=ratings.n_users)
    den_i = reg_item + np.bincount(i, minlength=ratings.n_items)
    b_u, b_i = np.zeros(ratings.n_users), np.zeros(ratings.n_items)
    for _ in range(n_iter):
        # where=: a 0 denominator (no ratings, no regularisation) leaves that bias at 0.
        np.divide(np.bincount(i, resid - b_u[u], ratings.n_items), den_i, out=b_i, where=den_i > 0)
        np.divide(np.bincount(u, resid - b_i[i], ratings.n_users), den_u, out=b_u, where=den_u > 0)
    return b_u, b_i


class GlobalMean(RatingRecommender):
    """Predicts the mean training rating for every pair."""

    def __init__(self) -> None:
        pass

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        pass

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return np.full(user.size, self.global_mean_)

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return np.full((users.size, self.n_items_), self.global_mean_)

    def _rank(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> TopN:
        """Every song ties at the global mean, so a list is the first n songs by code that are
        left: rank a prefix of them (the dense ranking of a constant block), widened only for
        the users it leaves short, instead of every song for every user."""
        songs = np.arange(self.n_items_) if shelf is None else np.flatnonzero(shelf)
        ids, vals = empty_top_n(users.size, n)
        todo, width = np.arange(users.size), n + 64
        while todo.size:
            prefix = songs[:width]
            step = block_rows(prefix.size)
            for s in range(0, todo.size, step):
                rows = todo[s : s + step]
                block = np.full((rows.size, prefix.size), self.global_mean_)
                left_out = excluded[users[rows]] if excluded is not None else None
                ids[rows], vals[rows] = top_n_of_songs(block, prefix, left_out, n)
            if prefix.size == songs.size:
                break
            todo, width = todo[(ids[todo] < 0).any(axis=1)], width * 8
        return ids, vals


class BiasBaseline(RatingRecommender):
    """mu + b_u + b_i with ridge-regularised biases fitted by alternating least squares."""

    PARTS = {"user_bias_": "influencer", "item_bias_": "song"}

    def __init__(self, reg_user: float = 0.5, reg_item: float = 15.0, n_iter: int = 15) -> None:
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_iter = n_iter

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        self.user_bias_, self.item_bias_ = fit_biases(
            ratings, self.global_mean_, self.reg_user, self.reg_item, self.n_iter
        )
        self._derive_parts()

    def _derive_parts(self) -> None:
        self.item_order_, self.item_norm_after_ = rank_index(self.item_bias_, None)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.global_mean_ + self.user_bias_[user] + self.item_bias_[item]

    def ranker(self) -> SeparableRanker:
        return SeparableRanker(
            self.global_mean_,
            self.user_bias_,
            self.item_bias_,
            self.item_order_,
            self.item_norm_after_,
        )

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return separable_scores(self.global_mean_, self.user_bias_, self.item_bias_, users)


class MostUsed(RatingRecommender):
    """The songs most influencers used, the same list for everyone: the `count` popularity
    method in Python, so model selection can weigh it on the validation cut like any model.
    Its score is the number of influencers who used the song (no rating is predicted)."""

    scores_are_ratings = False

    def __init__(self) -> None:
        pass

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        self.user_count_ = np.bincount(ratings.item, minlength=ratings.n_items).astype(float)
        self.no_bias_ = np.zeros(ratings.n_users)
        self.item_order_, self.item_norm_after_ = rank_index(self.user_count_, None)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.user_count_[item]

    def ranker(self) -> SeparableRanker:
        return SeparableRanker(
            0.0, self.no_bias_, self.user_count_, self.item_order_, self.item_norm_after_
        )

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return separable_scores(0.0, self.no_bias_, self.user_count_, users)
