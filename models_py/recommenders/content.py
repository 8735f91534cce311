"""Content-based recommendations from song metadata (song_features).

An influencer's profile is the lift-weighted mean of the features of the songs they used;
picks are the unused songs closest to it (cosine), so a song nobody has used yet is as
recommendable as any other.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.preprocessing import normalize

from models_py.recommenders.base import RatingRecommender, as_codes, chunks_by_weight
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.content_rank import (
    ContentIndex,
    ContentRanker,
    dense_profiles,
    dot_rows,
    pair_sims,
)
from models_py.recommenders.data import Ratings
from models_py.recommenders.shortlist_rank import at_scale
from models_py.recommenders.song_features import pair_similarity, top_k_neighbours
from models_py.recommenders.topn import MAX_BLOCK_CELLS

# (pick, used song) pairs compared at once by ``because``: each pair copies two feature rows, so
# explaining every pick of a large run at once would hold them all.
BECAUSE_PAIRS = 1 << 20


def lift_weights(csr: sp.csr_matrix, temperature: float | None) -> sp.csr_matrix:
    """Each used song's weight in its influencer's profile: softmax of Delta / temperature
    over the influencer's own reels (rows sum to 1).

    Relative to the influencer's own reels, so an account whose lifts are all low (a high
    usual ER regresses) still has a profile; songs that lifted more than their others weigh
    more. ``None`` (or inf): every used song counts the same.
    """
    out = csr.copy().astype(np.float64)
    if out.nnz == 0:
        return out
    rows = np.repeat(np.arange(out.shape[0]), np.diff(out.indptr))
    if temperature is None or not np.isfinite(temperature):
        logits = np.zeros(out.nnz)
    else:
        row_max = np.maximum.reduceat(out.data, out.indptr[:-1][np.diff(out.indptr) > 0])
        full_max = np.zeros(out.shape[0])
        full_max[np.diff(out.indptr) > 0] = row_max
        logits = (out.data - full_max[rows]) / float(temperature)
    e = np.exp(logits)
    out.data = e / np.bincount(rows, e, minlength=out.shape[0])[rows]
    return out


class ContentRecommender(RatingRecommender):
    """Recommends the unused songs closest to the influencer's lift-weighted content profile.

    ``song_features``: items x features (``song_features()``), one row per item code; it
    covers every song, used or not, so unused (cold) songs are ranked like the rest.
    Score: cos(own profile, song) + appeal_weight x appeal(song), where appeal is a ridge
    regression of log(1 + influencers who used the song) on its features, learnt from the
    songs used at fit: how widely songs of that artist, era and words get used. It is
    metadata's own popularity, so it reaches songs nobody has used yet. ``appeal_weight``
    only affects scoring (tuned by validation MAP).
    Predicted Delta: baseline (mu + b_u + b_i) plus the content-similarity-weighted mean of
    the influencer's residuals on the songs they used (``shrinkage`` damps it).
    """

    scoring_params = ("appeal_weight",)
    scores_are_ratings = False  # closeness to the profile plus appeal
    PARTS = {
        "features_": "song_features",
        "appeal_": "song",
        "popularity_tiebreak_": "song",
        "user_bias_": "influencer",
        "item_bias_": "song",
    }

    def __init__(
        self,
        song_features: sp.csr_matrix | None = None,
        lift_temperature: float | None = 2.0,
        appeal_weight: float = 1.0,
        appeal_alpha: float = 1.0,
        shrinkage: float = 1.0,
        reg_user: float = 0.5,
        reg_item: float = 15.0,
    ) -> None:
        self.song_features = song_features
        self.lift_temperature = lift_temperature
        self.appeal_weight = appeal_weight
        self.appeal_alpha = appeal_alpha
        self.shrinkage = shrinkage
        self.reg_user = reg_user
        self.reg_item = reg_item

    def _features(self, n_items: int) -> sp.csr_matrix:
        if self.song_features is None:
            raise ValueError("ContentRecommender needs song_features")
        x = sp.csr_matrix(self.song_features, copy=True)
        if x.shape[0] != n_items:
            raise ValueError(f"song_features must have one row per item ({n_items})")
        # Each song's features in column order: the order its sums run in (content_rank), and
        # the order a song_features part is read back in.
        x.sort_indices()
        return x

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        x = self._features(ratings.n_items)
        self.features_ = x
        self.appeal_ = self._appeal(x, csr)
        b_u, b_i = fit_biases(ratings, self.global_mean_, self.reg_user, self.reg_item, 10)
        self.user_bias_, self.item_bias_ = b_u, b_i
        counts = np.bincount(csr.indices, minlength=self.n_items_).astype(np.float64)
        # Breaks exact similarity ties (same artist and decade, no shared words) by usage.
        self.popularity_tiebreak_ = 1e-6 * counts / (counts.max() + 1.0) if counts.size else counts
        self._derive_parts()

    def _derive_parts(self) -> None:
        """Each influencer's profiles come from their own used songs and the song parts; the
        rank index from the features."""
        csr, x = self.used_, self.features_
        self.weights_ = lift_weights(csr, self.lift_temperature)
        self.profiles_ = normalize(self.weights_ @ x)  # users x features, sparse
        used = csr.copy()
        used.data = np.ones_like(used.data)
        resid = csr.copy()
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        resid.data = csr.data - self.global_mean_ - self.user_bias_[rows]
        resid.data -= self.item_bias_[csr.indices]
        self.residual_profile_ = resid @ x  # sum_i (r_ui - baseline) x_i
        self.mass_profile_ = used @ x  # sum_i x_i: sim-weights' normaliser (features >= 0)
        self.index_ = ContentIndex(x)

    def _appeal(self, x: sp.csr_matrix, csr: sp.csr_matrix) -> np.ndarray:
        """Ridge prediction of log(1 + users) from features, fitted on the used songs."""
        users = np.bincount(csr.indices, minlength=x.shape[0]).astype(np.float64)
        seen = users > 0
        if seen.sum() < 2 or x.shape[1] == 0:
            return np.zeros(x.shape[0])
        ridge = Ridge(alpha=float(self.appeal_alpha)).fit(x[seen], np.log1p(users[seen]))
        return ridge.predict(x)

    def _row_dots(self, left: sp.csr_matrix, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return np.asarray(left[user].multiply(self.features_[item]).sum(axis=1)).ravel()

    def _predict_known(
        self, user: np.ndarray, item: np.ndarray, chunk: int = 1 << 15
    ) -> np.ndarray:
        out = self.global_mean_ + self.user_bias_[user] + self.item_bias_[item]
        for s in range(0, user.size, chunk):
            u, i = user[s : s + chunk], item[s : s + chunk]
            num = self._row_dots(self.residual_profile_, u, i)
            den = self._row_dots(self.mass_profile_, u, i) + self.shrinkage
            out[s : s + chunk] += num / den
        return out

    def _base(self) -> np.ndarray:
        """The per-song part of the score: appeal_weight x appeal + the tie-break."""
        return float(self.appeal_weight) * self.appeal_ + self.popularity_tiebreak_

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        scores = dot_rows(self.profiles_[users], self.features_)
        scores += self._base()
        return scores

    def score_pairs(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The score of each (user, item) pair (the same floats as ``_score_block``'s cell),
        a few users' profiles made dense at a time."""
        out = np.empty(user.size)
        order = np.argsort(user, kind="stable")
        who, first = np.unique(user[order], return_index=True)
        ends = np.r_[first, user.size]
        step = max(1, MAX_BLOCK_CELLS // max(self.features_.shape[1], 1))
        base = self._base()
        for s in range(0, who.size, step):
            pairs = order[ends[s] : ends[min(s + step, who.size)]]
            block = who[s : s + step]
            profile_t = dense_profiles(self.profiles_[block])
            row = np.searchsorted(block, user[pairs])
            out[pairs] = pair_sims(self.features_, profile_t, row, item[pairs]) + base[item[pairs]]
        return out

    def ranker(self) -> ContentRanker:
        """Exact top-n from a few songs per user and a bound on the rest (content_rank); at
        catalogue scale, the songs it scores are the shortlist (shortlist_rank)."""
        return ContentRanker(
            self.features_, self.profiles_, self.index_, self._base(), at_scale(self)
        )

    def because(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """For each (user, picked item): the used item contributing most to the pick's score
        (profile weight x similarity), or -1 when the user used nothing similar."""
        users, items = as_codes(users, "users"), as_codes(items, "items")
        best = np.full(users.size, -1, dtype=np.int32)
        picks = np.flatnonzero(items >= 0)
        n_used = np.diff(self.weights_.indptr)[users[picks]]
        for part in chunks_by_weight(n_used, BECAUSE_PAIRS):
            pos = picks[part]
            best[pos] = self._because(users[pos], items[pos])
        return best

    def _because(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        w = self.weights_[u]  # one row per pick: the user's used songs and their weights
        n_used = np.diff(w.indptr)
        pick = np.repeat(np.arange(u.size), n_used)
        contribution = w.data * pair_similarity(self.features_, w.indices, np.repeat(i, n_used))
        order = np.lexsort((w.indices, -contribution, pick))  # per pick: best first, then code
        first = order[np.r_[0, np.cumsum(n_used)[:-1]][n_used > 0]]
        has = n_used > 0
        top = np.full(u.size, -1, dtype=np.int32)
        top[has] = np.where(contribution[first] > 0, w.indices[first], -1)
        return top

    def similar_items(self, items: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n songs closest in content to each of ``items``."""
        items = as_codes(items, "items")
        ids, sims = top_k_neighbours(self.features_, n)
        return ids[items], sims[items]
