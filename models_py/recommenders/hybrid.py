"""The content/usage hybrid: a mix of two models' scores, each standardised per influencer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from models_py.recommenders import shortlist_rank
from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.ranking import Ranker, TopN, empty_top_n
from models_py.recommenders.shortlist_rank import (
    at_scale,
    mixed_top_n,
    standardise,
    stats_sample,
    union_rows,
)
from models_py.recommenders.topn import block_rows, excluded_cells, mask_excluded, top_n


def row_standardise(scores: np.ndarray) -> np.ndarray:
    """(x - row mean) / row sd over finite cells; a constant row becomes all zeros."""
    finite = np.isfinite(scores)
    if finite.all():  # the usual block: the same floats as the nan-aware path, faster
        # numpy's mean and std, step for step (the same floats), sharing x - mean.
        n = scores.shape[1]
        out = scores - np.add.reduce(scores, axis=1, keepdims=True) / n
        sd = np.sqrt(np.add.reduce(out * out, axis=1, keepdims=True) / n)
        out /= np.where(sd > 0, sd, 1.0)
        return out
    x = np.where(finite, scores, np.nan)
    mean = np.nanmean(x, axis=1, keepdims=True)
    sd = np.nanstd(x, axis=1, keepdims=True)
    out = (x - mean) / np.where(sd > 0, sd, 1.0)
    return np.where(finite, out, -np.inf)


class HybridRecommender(RatingRecommender):
    """(1 - weight) x usage model + weight x content model, each standardised per influencer.

    Scores are z-scored within each influencer's row, so the blend mixes orderings, not
    units (predicted lift vs cosine). ``weight`` only affects scoring, so
    tuning.tune_ranking tries its values on one fit. Predicted Delta is the usage model's.
    """

    scoring_params = ("weight",)
    scores_are_ratings = False  # a mix of standardised scores
    # Both fitted on the same ratings; the weight is a constructor parameter (settings).
    PART_MODELS = ("usage_", "content_")

    def __init__(
        self,
        usage: RatingRecommender | None = None,
        content: ContentRecommender | None = None,
        weight: float = 0.5,
    ) -> None:
        self.usage = usage
        self.content = content
        self.weight = weight

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        if self.usage is None or self.content is None:
            raise ValueError("HybridRecommender needs a usage and a content model")
        self.usage_ = clone(self.usage).fit(ratings)
        self.content_ = clone(self.content).fit(ratings)

    def fit(self, ratings: Ratings) -> Self:
        if not 0.0 <= float(self.weight) <= 1.0:
            raise ValueError("weight must be in [0, 1]")
        return super().fit(ratings)

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.usage_.predict(user, item)

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        w = float(self.weight)
        if w == 0.0:
            return self.usage_._score_block(users)
        if w == 1.0:
            return self.content_._score_block(users)
        usage = row_standardise(self.usage_._score_block(users))
        content = row_standardise(self.content_._score_block(users))
        return (1.0 - w) * usage + w * content

    def _alone(self) -> RatingRecommender | None:
        """The component that is the whole score at weight 0 or 1 (None for a mix)."""
        w = float(self.weight)
        return self.usage_ if w == 0.0 else self.content_ if w == 1.0 else None

    def ranker(self) -> Ranker | None:
        """At weight 0 or 1 the scores are one component's, fitted on the same ratings: its
        ranking. A mix standardises each row over all its songs: no ceiling applies."""
        alone = self._alone()
        return None if alone is None else alone.ranker()

    def _rank(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> TopN:
        """A mix at catalogue scale ranks shortlists (shortlist_rank); otherwise as any model."""
        if shelf is not None or self._alone() is not None or not self._shortlisted():
            return super()._rank(users, n, excluded, shelf)
        ids, vals = empty_top_n(users.size, n)
        step = self._mix_block_rows()
        for s in range(0, users.size, step):
            parts = self._shortlists(users[s : s + step], n, excluded)
            ids[s : s + step], vals[s : s + step] = mixed_top_n(*parts, float(self.weight), n)
        return ids, vals

    def _mix_block_rows(self) -> int:
        """Users per block when both components are scored, whatever the weight is set to."""
        if self._shortlisted():  # a block's shortlist and sample scores stay within the cap
            return block_rows(shortlist_rank.SHORTLIST_SONGS + shortlist_rank.STATS_SAMPLE)
        return block_rows(self.n_items_)

    def _shortlisted(self) -> bool:
        """Whether a mix ranks shortlists: at catalogue scale, with a usage model whose songs
        are ordered by a per-song score (their top is the shortlist's common part); a mix with
        any other usage model is ranked densely."""
        usage = self.usage_.ranker()
        return at_scale(self) and usage is not None and usage.per_song

    def _shortlists(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """At catalogue scale (shortlist_rank): each user's candidates by code, whether each
        is one, and their standardised usage and content scores."""
        usage, content = self.usage_.ranker(), self.content_.ranker()
        if usage is None:
            raise ValueError("a mix ranks shortlists only with a usage model that has a ranker")
        common = np.sort(usage.order()[: shortlist_rank.SHORTLIST_SONGS])
        own, _ = self.content_.recommend(
            users,
            shortlist_rank.SHORTLIST_FACTOR * n,
            exclude_used=excluded is not None,
            exclude=excluded,
        )
        cand, column, valid = union_rows(common, own)
        sample = stats_sample(self.n_items_)
        who = np.broadcast_to(users[:, None], own.shape).ravel()
        own_songs = np.maximum(own, 0).ravel()
        everyone = np.arange(users.size)
        parts = []
        for ranker, pairs in (
            (usage, self.usage_.predict(who, own_songs, clip=False)),  # as its block scores
            (content, self.content_.score_pairs(who, own_songs)),
        ):
            block = ranker.block(users)
            scores = np.concatenate(
                [block.scores(everyone, common), pairs.reshape(own.shape)], axis=1
            )
            scores = standardise(scores, block.scores(everyone, sample))
            parts.append(np.take_along_axis(scores, column, axis=1))
        if excluded is not None:  # content's own list has none; the common songs may
            valid[excluded_cells(excluded[users], cand)] = False
        return cand, valid, parts[0], parts[1]

    def because(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.content_.because(users, items)

    def recommend_each(
        self, users: np.ndarray, n: int, settings: Sequence[Mapping[str, Any]]
    ) -> list[TopN]:
        """Every mix ranks each block from the same two standardised components, computed
        once per block (the lists are those of ``recommend`` at each weight); weights 0 and
        1 rank as their component does."""
        if any(set(params) != {"weight"} for params in settings):
            return super().recommend_each(users, n, settings)
        weights = [float(params["weight"]) for params in settings]
        out: list[TopN | None] = [None] * len(settings)
        mixes = [j for j, w in enumerate(weights) if 0.0 < w < 1.0]
        for j in sorted(set(range(len(settings))) - set(mixes)):
            self.set_params(weight=weights[j])
            out[j] = self.recommend(users, n, exclude_used=True)
        users = self._user_codes(users, n)
        for j in mixes:
            out[j] = empty_top_n(users.size, n)
        # Blocks sized for a mix, whatever the weight was last set to.
        step = self._mix_block_rows()
        for start in range(0, users.size, step):
            block = users[start : start + step]
            if self._shortlisted():
                parts = self._shortlists(block, n, self.used_)
                for j in mixes:
                    ids, vals = out[j]
                    ids[start : start + step], vals[start : start + step] = mixed_top_n(
                        *parts, weights[j], n
                    )
                continue
            usage = row_standardise(self.usage_._score_block(block))
            content = row_standardise(self.content_._score_block(block))
            used = self.used_[block]
            for j in mixes:
                scores = mask_excluded((1.0 - weights[j]) * usage + weights[j] * content, used)
                ids, vals = out[j]
                ids[start : start + step], vals[start : start + step] = top_n(scores, n, True)
        self.set_params(**settings[-1])
        return out
