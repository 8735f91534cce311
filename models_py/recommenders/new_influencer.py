"""Songs for an influencer with no reels yet: what influencers like them use.

"Like them" = the same follower tier and a similar bio (TF-IDF cosine). Tier popularity is
the prior and the bio neighbours the evidence:

    score(song) = (sum_v sim(v) * used(v, song) + prior_strength * p_tier(song))
                  / (sum_v sim(v) + prior_strength)

over the ``n_neighbors`` most similar known influencers v of the tier, where p_tier is the
share of the tier's influencers who used the song. With no bio, or no bio word in common
with anyone, the sum is empty and the score is tier popularity exactly.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer

from models_py.recommenders.base import top_n

ALL_TIERS = "all"


class SimilarInfluencers(BaseEstimator):
    """Fit on known influencers' usage, bios and tiers; recommend for new bios and tiers."""

    def __init__(self, n_neighbors: int = 50, prior_strength: float = 5.0) -> None:
        self.n_neighbors = n_neighbors
        self.prior_strength = prior_strength

    def fit(self, used: sp.csr_matrix, bios: np.ndarray, tiers: np.ndarray) -> Self:
        """``used``: known influencers x songs (any stored cell = used); ``bios``, ``tiers``:
        one per row of ``used``. Influencers who used nothing are ignored."""
        used = sp.csr_matrix(used, dtype=np.float64)
        if not used.shape[0] == len(bios) == len(tiers):
            raise ValueError("used, bios and tiers must have one row per influencer")
        active = np.diff(used.indptr) > 0
        binary = used[active]
        binary.data = np.ones_like(binary.data)
        self.used_ = binary.tocsr()
        self.tiers_ = np.asarray(tiers, dtype=object)[active]
        self.n_items_ = used.shape[1]
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, min_df=2)
        texts = _texts(np.asarray(bios, dtype=object)[active])
        try:
            self.bio_vectors_ = self.vectorizer_.fit_transform(texts)
        except ValueError:  # no bio words at all: tier popularity only
            self.vectorizer_ = None
            self.bio_vectors_ = sp.csr_matrix((len(texts), 0))
        self.tier_popularity_ = {
            tier: _share(self.used_[self.tiers_ == tier]) for tier in np.unique(self.tiers_)
        }
        self.tier_popularity_[ALL_TIERS] = _share(self.used_)
        return self

    def prior(self, tier: str) -> np.ndarray:
        """Share of the tier's known influencers who used each song (all tiers if unknown)."""
        return self.tier_popularity_.get(tier, self.tier_popularity_[ALL_TIERS])

    def scores(self, bios: np.ndarray, tiers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(new influencers x songs scores, each one's number of bio neighbours)."""
        bios, tiers = np.asarray(bios, dtype=object), np.asarray(tiers, dtype=object)
        out = np.empty((bios.size, self.n_items_))
        n_neighbours = np.zeros(bios.size, dtype=np.int64)
        query = (
            self.vectorizer_.transform(_texts(bios))
            if self.vectorizer_ is not None
            else sp.csr_matrix((bios.size, 0))
        )
        for tier in np.unique(tiers):
            rows = np.flatnonzero(tiers == tier)
            peers = np.flatnonzero(self.tiers_ == tier)
            if peers.size == 0:  # a tier nobody known is in: everyone is a peer
                peers = np.arange(self.tiers_.size)
            votes, weight, count = self._neighbour_votes(query[rows], peers)
            m = float(self.prior_strength)
            out[rows] = (votes + m * self.prior(tier)) / (weight[:, None] + m)
            n_neighbours[rows] = count
        return out, n_neighbours

    def _neighbour_votes(
        self, query: sp.csr_matrix, peers: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """sim-weighted usage of each row's top-n_neighbors peers (similarity > 0 only),
        the sum of their similarities and their number."""
        sims = (query @ self.bio_vectors_[peers].T).toarray()
        k = min(int(self.n_neighbors), peers.size)
        sims[sims <= 0] = -np.inf
        nb, sim = top_n(sims, k, overwrite=True)
        ok = nb >= 0
        weights = sp.csr_matrix(
            (sim[ok], peers[nb[ok]], np.r_[0, np.cumsum(ok.sum(axis=1))]),
            shape=(query.shape[0], self.used_.shape[0]),
        )
        return (
            (weights @ self.used_).toarray(),
            np.asarray(weights.sum(axis=1)).ravel(),
            ok.sum(axis=1),
        )

    def recommend(
        self, bios: np.ndarray, tiers: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-n songs per new influencer: (ids, scores, number of bio neighbours), -1/nan
        padded; songs nobody known used are never recommended (nothing to go on)."""
        scores, n_neighbours = self.scores(bios, tiers)
        scores[scores <= 0] = -np.inf
        ids, vals = top_n(scores, n, overwrite=True)
        return ids, vals, n_neighbours


def _texts(bios: np.ndarray) -> list[str]:
    return ["" if b is None or b != b else str(b) for b in bios]


def _share(used: sp.csr_matrix) -> np.ndarray:
    counts = np.asarray(used.sum(axis=0)).ravel()
    return counts / max(used.shape[0], 1)
