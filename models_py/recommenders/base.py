"""The estimator contract every recommender shares, and the dense ranking all rankings equal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from models_py.recommenders import ranking
from models_py.recommenders.data import Ratings
from models_py.recommenders.ranking import Ranker, TopN, empty_top_n, shelf_top_n
from models_py.recommenders.topn import block_rows, mask_excluded, top_n


def chunks_by_weight(weights: np.ndarray, budget: int) -> list[slice]:
    """Consecutive slices of roughly ``budget`` total weight (one heavy element may exceed it)."""
    if weights.size == 0:
        return []
    start_offset = np.cumsum(weights) - weights
    chunk = start_offset // max(budget, 1)
    bounds = np.r_[0, np.flatnonzero(np.diff(chunk)) + 1, weights.size]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def as_codes(a: np.ndarray | list[int], name: str) -> np.ndarray:
    codes = np.asarray(a)
    if codes.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    if codes.size and codes.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer codes")
    return codes.astype(np.int64, copy=False)


def row_dot(
    a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray, chunk: int = 1 << 16
) -> np.ndarray:
    """sum_f a[ia, f] * b[ib, f], in chunks so the gathered rows stay small."""
    out = np.empty(ia.size)
    for s in range(0, ia.size, chunk):
        out[s : s + chunk] = np.einsum("ij,ij->i", a[ia[s : s + chunk]], b[ib[s : s + chunk]])
    return out


class RatingRecommender(BaseEstimator):
    """Explicit-rating recommender over integer-coded users and items.

    Subclasses implement ``_fit``, ``_predict_known`` (pairs with in-range codes) and
    ``_score_block`` (a new dense float64 array of scores of a block of users against all items,
    which the ranking may overwrite); a model that can rank without scoring every song names
    its ``ranker`` (ranking.Ranker).
    Learned attributes end with ``_``; ``__init__`` only stores parameters (sklearn contract).

    ``predict`` clips to the range of the ratings fitted on, as Surprise clips to the rating
    scale: on a 1-5 scale no song is "predicted 6.3". ``recommend`` ranks by the raw scores
    (clipping would only tie them); ``clip_scores`` gives them as served.
    """

    scores_are_ratings = True  # False: scores only order songs (similarities, mixes)
    # False: a ranker of usage whose ``predict`` is its ranking score, not a Delta (EASE, ALS);
    # the run writes no test predictions for it, so it gets no RMSE.
    predicts_ratings = True
    # Its fitted parts (attribute -> kind) and fitted sub-models: what recommenders.parts
    # writes and rebuilds a model from; a class without them has no on-demand lists.
    PARTS: ClassVar[dict[str, str]] = {}
    PART_MODELS: ClassVar[tuple[str, ...]] = ()

    def fit(self, ratings: Ratings) -> Self:
        csr = ratings.to_csr()
        self.n_users_ = ratings.n_users
        self.fit_users_ = ratings.n_users  # a model rebuilt for a few influencers keeps it
        self.n_items_ = ratings.n_items
        self.global_mean_ = float(ratings.rating.mean()) if len(ratings) else 0.0
        self.rating_range_ = (
            (float(ratings.rating.min()), float(ratings.rating.max()))
            if len(ratings)
            else (-np.inf, np.inf)
        )
        self.used_ = csr  # the fit ratings: "used" items for recommend, lookups for models
        self._fit(ratings, csr)
        return self

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _derive_parts(self) -> None:
        """Recompute from the parts what the fit derived from them (rank indexes, caches)."""

    def _part_used(self, attr: str, used: sp.csr_matrix) -> sp.csr_matrix:
        """The ratings the sub-model ``attr`` was fitted on, for the rows of ``used``."""
        return used

    def ranker(self) -> Ranker | None:
        """The exact ranking that spares the dense scores; None: rank densely."""
        return None

    def predict(self, user: np.ndarray, item: np.ndarray, clip: bool = True) -> np.ndarray:
        """Predicted ratings for (user[k], item[k]); codes outside the fitted ranges (users or
        items unseen at fit) get the global mean. ``clip`` (Surprise's ``predict(clip=True)``):
        within the range of the ratings fitted on."""
        user, item = as_codes(user, "user"), as_codes(item, "item")
        if user.shape != item.shape:
            raise ValueError("user and item must have the same length")
        out = np.full(user.size, self.global_mean_)
        known = (user >= 0) & (user < self.n_users_) & (item >= 0) & (item < self.n_items_)
        if known.any():
            out[known] = self._predict_known(user[known], item[known])
        return np.clip(out, *self.rating_range_) if clip else out

    def clip_scores(self, scores: np.ndarray) -> np.ndarray:
        """Scores of ``recommend`` as served: clipped like predictions when they are predicted
        ratings (``scores_are_ratings``); the ranking itself keeps them raw."""
        return np.clip(scores, *self.rating_range_) if self.scores_are_ratings else scores

    def recommend(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool = True,
        candidates: np.ndarray | None = None,
        *,
        exclude: sp.csr_matrix | None = None,
    ) -> TopN:
        """Top-n items per user: (int32 item codes, float64 scores), each (len(users), n), by
        score desc then item code asc, padded with -1 / nan when fewer than n items remain.

        Left out (like implicit's ``filter_already_liked_items``): the stored cells of
        ``exclude``, users x items in the fitted code space (explicit zeros count), by default
        the items each user rated in the ratings passed to ``fit``; nothing with
        ``exclude_used=False``. ``candidates``: boolean mask over items; only those are ranked
        (default: all)."""
        users = self._user_codes(users, n)
        excluded = self._excluded(exclude_used, exclude)
        return self._rank(users, n, excluded, self._shelf(candidates))

    def _rank(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> TopN:
        """``recommend`` of valid arguments: the ranker's exact top-n, or the dense ranking."""
        ranker = self.ranker()
        if ranker is None:
            return _dense_top_n(self, users, n, excluded, shelf)
        if shelf is not None:
            return shelf_top_n(ranker, users, n, excluded, shelf)
        return ranking.exact_top_n(ranker, users, n, excluded)

    def _user_codes(self, users: np.ndarray, n: int) -> np.ndarray:
        users = as_codes(users, "users")
        if n < 0:
            raise ValueError("n must be >= 0")
        if users.size and (users.min() < 0 or users.max() >= self.n_users_):
            raise ValueError(f"user codes must be in [0, {self.n_users_})")
        return users

    def _excluded(self, exclude_used: bool, exclude: sp.csr_matrix | None) -> sp.csr_matrix | None:
        """The users x items whose stored cells are left out of every list, or None."""
        if exclude is None:
            return self.used_ if exclude_used else None
        if not exclude_used:
            raise ValueError("exclude_used=False leaves nothing out: do not pass exclude too")
        excluded = sp.csr_matrix(exclude)
        if excluded.shape != (self.n_users_, self.n_items_):
            raise ValueError(f"exclude must be users x items ({self.n_users_, self.n_items_})")
        return excluded if excluded.has_sorted_indices else excluded.sorted_indices()

    def _shelf(self, candidates: np.ndarray | None) -> np.ndarray | None:
        """The candidate mask, or None when every item is a candidate."""
        if candidates is None:
            return None
        shelf = np.asarray(candidates, dtype=bool)
        if shelf.shape != (self.n_items_,):
            raise ValueError(f"candidates must be a mask over the {self.n_items_} items")
        return None if shelf.all() else shelf

    def recommend_each(
        self, users: np.ndarray, n: int, settings: Sequence[Mapping[str, Any]]
    ) -> list[TopN]:
        """``recommend`` (used songs excluded) under each of ``settings``, parameters that only
        change how the fitted model scores (``scoring_params``); the model is left at the
        last. Models whose settings can share work override this."""
        out = []
        for params in settings:
            self.set_params(**params)
            out.append(self.recommend(users, n, exclude_used=True))
        return out


def dense_top_n(
    model: RatingRecommender,
    users: np.ndarray,
    n: int,
    exclude_used: bool = True,
    candidates: np.ndarray | None = None,
    *,
    exclude: sp.csr_matrix | None = None,
) -> TopN:
    """``model.recommend`` by brute force: every song scored (``_score_block``), then ranked.
    Every other ranking is held to equal it."""
    users = model._user_codes(users, n)
    shelf = model._shelf(candidates)
    return _dense_top_n(model, users, n, model._excluded(exclude_used, exclude), shelf)


def _dense_top_n(
    model: RatingRecommender,
    users: np.ndarray,
    n: int,
    excluded: sp.csr_matrix | None,
    shelf: np.ndarray | None,
) -> TopN:
    ids, vals = empty_top_n(users.size, n)
    step = block_rows(model.n_items_)
    for s in range(0, users.size, step):
        block = users[s : s + step]
        scores = model._score_block(block)  # a fresh array: ours to overwrite
        if shelf is not None:
            scores[:, ~shelf] = -np.inf
        mask_excluded(scores, excluded[block] if excluded is not None else None)
        ids[s : s + step], vals[s : s + step] = top_n(scores, n, True)
    return ids, vals
