"""Content-based recommendations from song metadata, and the content/usage hybrid.

Song features use metadata only (title, release, artist, decade), so a song nobody has used
yet is as recommendable as any other. An influencer's profile is the lift-weighted mean of
the features of the songs they used; picks are the unused songs closest to it (cosine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.preprocessing import OneHotEncoder, normalize

from models_py.recommenders import shortlist_rank
from models_py.recommenders.base import (
    MAX_BLOCK_CELLS,
    RatingRecommender,
    as_codes,
    block_rows,
    chunks_by_weight,
    top_n,
)
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.content_rank import (
    ContentIndex,
    content_top_n,
    dense_profiles,
    pair_sims,
)
from models_py.recommenders.content_rank import dot_rows as _dot_rows
from models_py.recommenders.data import Ratings
from models_py.recommenders.separable_rank import SeparableRanking, dense_top_n
from models_py.recommenders.shortlist_rank import (
    at_scale,
    mixed_top_n,
    score_columns,
    score_pairs,
    standardise,
    stats_sample,
    union_rows,
)

# Relative weights of the feature groups (each group is L2-normalised before weighting).
# Artist and decade carry most of what makes two songs suit the same influencer; titles
# and album names add word overlap ("Live At Mumbai", "Greatest Hits") of weaker value.
# (pick, used song) pairs compared at once by ``because``: all 9.8M picks at 10M (~98M pairs,
# each pair's feature rows copied) took a serving worker past 20 GB.
BECAUSE_PAIRS = 1 << 20
DEFAULT_WEIGHTS = {"artist": 1.0, "decade": 0.5, "release": 0.3, "title": 0.2}


def decade_of(year: pd.Series) -> pd.Series:
    """'1980s' etc.; unknown or zero years give None (no decade feature, not a shared one)."""
    y = pd.to_numeric(year, errors="coerce")
    known = y.notna() & (y > 0)
    out = pd.Series(None, index=year.index, dtype=object)
    out[known] = ((y[known] // 10) * 10).astype(int).astype(str) + "s"
    return out


def song_features(songs: pd.DataFrame, weights: dict[str, float] | None = None) -> sp.csr_matrix:
    """Sparse, L2-normalised rows of TF-IDF(title) | TF-IDF(release) | one-hot artist | decade.

    ``songs`` has columns title, release_name, artist_name, release_year, one row per item
    code. Blank text and unknown years contribute nothing (never a shared "unknown" feature).
    """
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    frame = pd.DataFrame(
        {
            "title": songs["title"].fillna("").astype(str),
            "release": songs["release_name"].fillna("").astype(str),
            "artist": songs["artist_name"].fillna("").astype(str).str.strip().str.lower(),
            "decade": decade_of(songs["release_year"]),
        }
    )
    artists = sorted(a for a in frame["artist"].unique() if a)
    decades = sorted(d for d in frame["decade"].dropna().unique())
    frame["decade"] = frame["decade"].fillna("")

    def onehot(categories: list[str]) -> OneHotEncoder:
        # Categories listed without "": a blank value encodes to an all-zero row.
        return OneHotEncoder(categories=[categories], handle_unknown="ignore")

    def tfidf() -> TfidfVectorizer:
        return TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w\w+\b")

    groups = [
        ("title", tfidf(), "title"),
        ("release", tfidf(), "release"),
        ("artist", onehot(artists), ["artist"]),
        ("decade", onehot(decades), ["decade"]),
    ]
    # Each group L2-normalised first, so a weight means the same for every song. An all-blank
    # text column has no vocabulary: that group is left out rather than failing.
    blocks = [
        w[name] * normalize(sp.csr_matrix(est.fit_transform(frame[col])))
        for name, est, col in groups
        if not isinstance(est, TfidfVectorizer) or _has_words(frame[col])
    ]
    features = sp.hstack(blocks, format="csr") if blocks else sp.csr_matrix((len(frame), 0))
    return normalize(features).astype(np.float64)


def _has_words(text: pd.Series) -> bool:
    return bool(text.str.contains(r"\w\w", regex=True).any())


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


def top_k_neighbours(
    features: sp.csr_matrix, k: int, candidates: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows by cosine (features are L2-normalised).

    Computed in blocks of rows, so the songs x songs similarity is never held whole.
    Returns (int32 neighbour codes, similarities), padded with -1 / nan.
    """
    n = features.shape[0]
    ids = np.full((n, k), -1, dtype=np.int32)
    sims = np.full((n, k), np.nan)
    if k == 0 or n == 0:
        return ids, sims
    step = block_rows(n, 1024)
    right = features.T.tocsc()
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = (features[start:stop] @ right).toarray()
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not itself
        block[block <= 0] = -np.inf  # nothing in common: not a neighbour
        if candidates is not None:
            block[:, ~candidates] = -np.inf
        ids[start:stop], sims[start:stop] = top_n(block, k, overwrite=True)
    return ids, sims


def pair_similarity(features: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cos(song a[k], song b[k]) for each k, without forming any song x song matrix."""
    if a.size == 0:
        return np.zeros(0)
    return np.asarray(features[a].multiply(features[b]).sum(axis=1)).ravel()


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
        x = sp.csr_matrix(self.song_features)
        if x.shape[0] != n_items:
            raise ValueError(f"song_features must have one row per item ({n_items})")
        return x

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        x = self._features(ratings.n_items)
        self.features_ = x
        self.weights_ = lift_weights(csr, self.lift_temperature)
        self.profiles_ = normalize(self.weights_ @ x)  # users x features, sparse
        self.appeal_ = self._appeal(x, csr)
        b_u, b_i = fit_biases(ratings, self.global_mean_, self.reg_user, self.reg_item, 10)
        self.user_bias_, self.item_bias_ = b_u, b_i
        used = csr.copy()
        used.data = np.ones_like(used.data)
        resid = csr.copy()
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        resid.data = csr.data - self.global_mean_ - b_u[rows] - b_i[csr.indices]
        self.residual_profile_ = resid @ x  # sum_i (r_ui - baseline) x_i
        self.mass_profile_ = used @ x  # sum_i x_i: sim-weights' normaliser (features >= 0)
        counts = np.bincount(csr.indices, minlength=self.n_items_).astype(np.float64)
        # Breaks exact similarity ties (same artist and decade, no shared words) by usage.
        self.popularity_tiebreak_ = 1e-6 * counts / (counts.max() + 1.0) if counts.size else counts
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
        scores = _dot_rows(self.profiles_[users], self.features_)
        scores += self._base()
        return scores

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``_score_block``'s columns ``items``, computed on those songs alone."""
        scores = _dot_rows(self.profiles_[users], self.features_[items])
        scores += self._base()[items]
        return scores

    def _score_pairs(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
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

    def _recommend_block_rows(self) -> int:
        return 1 << 30  # content_top_n blocks users itself (and learns from the first block)

    def _top_n_block(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The dense ranking, from exact scores of a few songs per user and a bound on the
        rest (content_rank); users the bound cannot settle are ranked densely."""
        if candidates is not None and not candidates.all():
            return dense_top_n(self, users, n, exclude_used, candidates)
        base = self._base()
        order = np.lexsort((np.arange(base.size), -base))
        return content_top_n(
            self,
            users,
            n,
            exclude_used,
            base,
            order,
            lambda rest: dense_top_n(self, rest, n, exclude_used),
            shortlist=at_scale(self),
        )

    def recommend(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool = True,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """As RatingRecommender.recommend; with a candidate mask only those columns are
        scored (the cold-song shelf is a tenth of the catalogue)."""
        if candidates is None or candidates.all():
            return super().recommend(users, n, exclude_used, candidates)
        users, items = as_codes(users, "users"), np.flatnonzero(candidates)
        features = self.features_[items]
        prior = float(self.appeal_weight) * self.appeal_[items] + self.popularity_tiebreak_[items]
        ids = np.full((users.size, n), -1, dtype=np.int32)
        vals = np.full((users.size, n), np.nan)
        step = block_rows(items.size)
        for start in range(0, users.size, step):
            block = users[start : start + step]
            scores = _dot_rows(self.profiles_[block], features) + prior
            if exclude_used:
                used = self.used_[block]
                rows = np.repeat(np.arange(block.size), np.diff(used.indptr))
                pos = np.minimum(np.searchsorted(items, used.indices), items.size - 1)
                hit = items[pos] == used.indices
                scores[rows[hit], pos[hit]] = -np.inf
            local, vals[start : start + step] = top_n(scores, n, overwrite=True)
            ids[start : start + step] = np.where(local >= 0, items[np.maximum(local, 0)], -1)
        return ids, vals

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


def row_standardise(scores: np.ndarray) -> np.ndarray:
    """(x - row mean) / row sd over finite cells; a constant row becomes all zeros."""
    finite = np.isfinite(scores)
    if finite.all():  # the usual block: the same floats as the nan-aware path, ~5x faster
        mean = scores.mean(axis=1, keepdims=True)
        sd = scores.std(axis=1, keepdims=True)
        return (scores - mean) / np.where(sd > 0, sd, 1.0)
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

    def _recommend_block_rows(self) -> int:
        alone = self._alone()
        return self._mix_block_rows() if alone is None else alone._recommend_block_rows()

    def _mix_block_rows(self) -> int:
        """Users per block when both components are scored, whatever the weight is set to."""
        if self._shortlisted():  # a block's shortlist and sample scores stay within the cap
            return block_rows(shortlist_rank.SHORTLIST_SONGS + shortlist_rank.STATS_SAMPLE)
        return super()._recommend_block_rows()

    def _top_n_block(
        self,
        users: np.ndarray,
        n: int,
        exclude_used: bool,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """At weight 0 or 1 the scores are one component's (``_score_block``), fitted on the
        same ratings: its exact non-dense ranking applies. A mix standardises each row over
        all its songs, so it is ranked densely, or from shortlists at catalogue scale
        (shortlist_rank)."""
        alone = self._alone()
        if alone is not None:
            return alone._top_n_block(users, n, exclude_used, candidates)
        if candidates is None and self._shortlisted():
            return mixed_top_n(*self._shortlists(users, n, exclude_used), float(self.weight), n)
        return super()._top_n_block(users, n, exclude_used, candidates)

    def _shortlisted(self) -> bool:
        """Whether a mix ranks shortlists: at catalogue scale, with a usage model that orders
        its songs by a per-song score (their top is the shortlist's common part); a mix with
        any other usage model is ranked densely."""
        usage = self.usage_
        if hasattr(usage, "_separable"):
            separable = usage._separable()
        else:
            separable = isinstance(usage, SeparableRanking)
        return at_scale(self) and separable

    def _shortlists(
        self, users: np.ndarray, n: int, exclude_used: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """At catalogue scale (shortlist_rank): each user's candidates by code, whether each
        is one, and their standardised usage and content scores."""
        _, by_usage, _ = self.usage_._rank_index()
        common = np.sort(by_usage[: shortlist_rank.SHORTLIST_SONGS])
        own, _ = self.content_.recommend(users, shortlist_rank.SHORTLIST_FACTOR * n, exclude_used)
        cand, column, valid = union_rows(common, own)
        sample = stats_sample(self.n_items_)
        who = np.broadcast_to(users[:, None], own.shape).ravel()
        parts = []
        for part in (self.usage_, self.content_):
            scores = np.concatenate(
                [
                    score_columns(part, users, common),
                    score_pairs(part, who, np.maximum(own, 0).ravel()).reshape(own.shape),
                ],
                axis=1,
            )
            scores = standardise(scores, score_columns(part, users, sample))
            parts.append(np.take_along_axis(scores, column, axis=1))
        if exclude_used:  # content's own list has none; the common songs may
            used = self.used_[users]
            row = np.repeat(np.arange(users.size), np.diff(used.indptr))
            # Rows in order and codes sorted within each: one sorted key per cell.
            keys = (np.arange(users.size)[:, None] * (self.n_items_ + 1) + cand + 1).ravel()
            want = row * (self.n_items_ + 1) + used.indices + 1
            at = np.minimum(np.searchsorted(keys, want), keys.size - 1)
            valid.ravel()[at[keys[at] == want]] = False
        return cand, valid, parts[0], parts[1]

    def because(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.content_.because(users, items)

    def recommend_each(
        self, users: np.ndarray, n: int, settings: Sequence[Mapping[str, Any]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every mix ranks each block from the same two standardised components, computed
        once per block (the lists are those of ``recommend`` at each weight); weights 0 and
        1 rank as their component does."""
        if any(set(params) != {"weight"} for params in settings):
            return super().recommend_each(users, n, settings)
        weights = [float(params["weight"]) for params in settings]
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(settings)
        mixes = [j for j, w in enumerate(weights) if 0.0 < w < 1.0]
        for j in sorted(set(range(len(settings))) - set(mixes)):
            self.set_params(weight=weights[j])
            out[j] = self.recommend(users, n, exclude_used=True)
        users = self._user_codes(users, n)
        for j in mixes:
            out[j] = (
                np.full((users.size, n), -1, dtype=np.int32),
                np.full((users.size, n), np.nan),
            )
        # Not _recommend_block_rows(): the weight is still the last lone component's (content
        # alone blocks all users at once) and a 1M tuning scored every user densely (23 GB).
        step = self._mix_block_rows()
        for start in range(0, users.size, step):
            block = users[start : start + step]
            if self._shortlisted():
                parts = self._shortlists(block, n, True)
                for j in mixes:
                    ids, vals = out[j]
                    ids[start : start + step], vals[start : start + step] = mixed_top_n(
                        *parts, weights[j], n
                    )
                continue
            usage = row_standardise(self.usage_._score_block(block))
            content = row_standardise(self.content_._score_block(block))
            used = self.used_[block]
            rows = np.repeat(np.arange(block.size), np.diff(used.indptr))
            for j in mixes:
                scores = (1.0 - weights[j]) * usage + weights[j] * content
                scores[rows, used.indices] = -np.inf
                ids, vals = out[j]
                ids[start : start + step], vals[start : start + step] = top_n(scores, n, True)
        self.set_params(**settings[-1])
        return out
