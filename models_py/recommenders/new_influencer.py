"""Songs for an influencer with no reels yet: what influencers like them use.

"Like them" = the same follower tier and a similar bio (TF-IDF cosine). Tier popularity is
the prior and the bio neighbours the evidence:

    score(song) = (sum_v sim(v) * used(v, song) + prior_strength * p_tier(song))
                  / (sum_v sim(v) + prior_strength)

over the ``n_neighbors`` most similar known influencers v of the tier, where p_tier is the
share of the tier's influencers who used the song. With no bio, or no bio word in common
with anyone, the sum is empty and the score is tier popularity exactly. How much a bio is
worth (``prior_strength``) is tuned when fitting: a seeded 10 % of the known influencers
play the new ones, and the strength with the best MAP@10 on their songs wins — bios that
say nothing about taste get a strong prior, i.e. tier popularity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer

from models_py.recommenders.topn import block_rows, top_entries, top_n
from models_py.recommenders.tuning import average_precision_at_k

ALL_TIERS = "all"
# Tuning plays at most this many known influencers as new: MAP@10 is stable long before.
MAX_VALIDATION = 5_000


class SimilarInfluencers(BaseEstimator):
    """Fit on known influencers' usage, bios and tiers; recommend for new bios and tiers."""

    def __init__(
        self,
        n_neighbors: int = 50,
        prior_strengths: tuple[float, ...] = (1.0, 5.0, 20.0, 100.0, 1000.0),
        validation_fraction: float = 0.1,
        random_state: int = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.prior_strengths = prior_strengths
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, used: sp.csr_matrix, bios: np.ndarray, tiers: np.ndarray) -> Self:
        """``used``: known influencers x songs (any stored cell = used); ``bios``, ``tiers``:
        one per row of ``used``. Influencers who used nothing are ignored."""
        used = sp.csr_matrix(used, dtype=np.float64)
        if not used.shape[0] == len(bios) == len(tiers):
            raise ValueError("used, bios and tiers must have one row per influencer")
        bios, tiers = np.asarray(bios, dtype=object), np.asarray(tiers, dtype=object)
        self.validation_scores_ = self._tune(used, bios, tiers)
        self.prior_strength_ = max(self.validation_scores_, key=self.validation_scores_.get)
        return self._fit_known(used, bios, tiers)

    def _tune(self, used: sp.csr_matrix, bios: np.ndarray, tiers: np.ndarray) -> dict:
        """MAP@10 of each prior strength, seeded 10 % of the active influencers (at most
        max_validation) as new."""
        strengths = tuple(self.prior_strengths)
        active = np.flatnonzero(np.diff(used.indptr) > 0)
        rng = np.random.default_rng(self.random_state)
        n_valid = min(int(round(self.validation_fraction * active.size)), MAX_VALIDATION)
        if len(strengths) == 1 or n_valid < 1 or n_valid >= active.size:
            return {strengths[0]: float("nan")}
        valid = np.zeros(used.shape[0], dtype=bool)
        valid[rng.choice(active, n_valid, replace=False)] = True
        rest = (sp.diags((~valid).astype(np.float64)) @ used).tocsr()
        rest.eliminate_zeros()
        self._fit_known(rest, bios, tiers)
        ranked = self._recommend_each(bios[valid], tiers[valid], 10, strengths)
        return {m: _map_at_10(ranked[m][0], used[valid]) for m in strengths}

    def _fit_known(self, used: sp.csr_matrix, bios: np.ndarray, tiers: np.ndarray) -> Self:
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

    def peer_tier(self, tier: str) -> str:
        """The tier whose influencers a new one of ``tier`` is compared with: its own, or
        ALL_TIERS when no known influencer with reels is in it."""
        return tier if tier in self.tier_popularity_ and tier != ALL_TIERS else ALL_TIERS

    def prior(self, tier: str) -> np.ndarray:
        """Share of the peer tier's known influencers who used each song (``peer_tier``)."""
        return self.tier_popularity_[self.peer_tier(tier)]

    def scores(self, bios: np.ndarray, tiers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(new influencers x songs scores, each one's number of bio neighbours)."""
        out = np.empty((len(bios), self.n_items_))
        n_neighbours = np.zeros(len(bios), dtype=np.int64)
        for rows, votes, weight, count, prior in self._votes(bios, tiers):
            out[rows] = _combine(votes.toarray(), weight, prior, float(self.prior_strength_))
            n_neighbours[rows] = count
        return out, n_neighbours

    def recommend(
        self, bios: np.ndarray, tiers: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-n songs per new influencer: (ids, scores, number of bio neighbours), -1/nan
        padded; songs nobody known used are never recommended (nothing to go on)."""
        return self._recommend_each(bios, tiers, n, (self.prior_strength_,))[self.prior_strength_]

    def _recommend_each(
        self, bios: np.ndarray, tiers: np.ndarray, n: int, strengths: tuple[float, ...]
    ) -> dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """recommend() at each prior strength; the neighbour votes are found once, a block
        of new influencers at a time (never new influencers x songs at once)."""
        out = {
            m: (
                np.full((len(bios), n), -1, dtype=np.int32),
                np.full((len(bios), n), np.nan),
                np.zeros(len(bios), dtype=np.int64),
            )
            for m in strengths
        }
        orders: dict[int, np.ndarray] = {}  # songs by prior desc then code, per prior
        for rows, votes, weight, count, prior in self._votes(bios, tiers):
            if id(prior) not in orders:
                orders[id(prior)] = np.lexsort((np.arange(prior.size), -prior))
            for m in strengths:
                ids, vals, n_neighbours = out[m]
                ids[rows], vals[rows] = _top_n_combined(
                    votes, weight, prior, float(m), n, orders[id(prior)]
                )
                n_neighbours[rows] = count
        return out

    def _votes(
        self, bios: np.ndarray, tiers: np.ndarray
    ) -> Iterator[tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]]:
        """(rows, neighbour votes, their weight, their number, tier prior) per block of new
        influencers, each block within one tier."""
        bios, tiers = np.asarray(bios, dtype=object), np.asarray(tiers, dtype=object)
        query = (
            self.vectorizer_.transform(_texts(bios))
            if self.vectorizer_ is not None
            else sp.csr_matrix((bios.size, 0))
        )
        for tier in np.unique(tiers):
            in_tier = np.flatnonzero(tiers == tier)
            peers = (
                np.flatnonzero(self.tiers_ == tier)
                if self.peer_tier(tier) == tier
                else np.arange(self.tiers_.size)  # a tier nobody known is in: everyone
            )
            peer_vectors = self.bio_vectors_[peers].T.tocsc()
            # Bio similarities and votes are sparse; a row left unsure is scored densely.
            step = block_rows(self.n_items_)
            for rows in np.array_split(in_tier, -(-in_tier.size // step)):
                votes, weight, count = self._neighbour_votes(query[rows], peers, peer_vectors)
                yield rows, votes, weight, count, self.prior(tier)

    def _neighbour_votes(
        self, query: sp.csr_matrix, peers: np.ndarray, peer_vectors: sp.csc_matrix
    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """sim-weighted usage of each row's top-n_neighbors peers (similarity > 0 only; sparse:
        the songs they used), the sum of their similarities and their number."""
        sims = sp.csr_matrix(query @ peer_vectors)
        sims.sort_indices()
        k = min(int(self.n_neighbors), peers.size)
        # The k best positive similarities per row, ties by peer position: top_n's order of the
        # dense row, on its stored cells only (a bio shares words with few peers).
        row = np.repeat(np.arange(sims.shape[0]), np.diff(sims.indptr))
        positive = sims.data > 0
        row, col, sim = top_entries(
            row[positive], sims.indices[positive], sims.data[positive], k, col_sorted=True
        )
        count = np.bincount(row, minlength=query.shape[0])
        weights = sp.csr_matrix(
            (sim, peers[col], np.r_[0, np.cumsum(count)]),
            shape=(query.shape[0], self.used_.shape[0]),
        )
        return sp.csr_matrix(weights @ self.used_), np.asarray(weights.sum(axis=1)).ravel(), count


# Songs of highest prior scored for every row beside its voted songs (_top_n_combined), past
# the n listed: what the rows' own votes may take from the prefix.
PRIOR_SLACK = 32


def _top_n_combined(
    votes: sp.csr_matrix,
    weight: np.ndarray,
    prior: np.ndarray,
    m: float,
    n: int,
    order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """top_n of _combine's scores (those <= 0 left out) over every song, from few of them: each
    row's voted songs and the first songs of ``order`` (prior desc, code asc). A song with no
    vote scores m * prior / (weight + m), never more than one of higher prior, so a row whose
    n-th score beats the first song left out is exact; the other rows are scored densely."""
    width = n + PRIOR_SLACK
    if width >= prior.size or n == 0:
        return _dense_combined(votes, weight, prior, m, n)
    prefix = np.sort(order[:width])
    dense = _combine(votes[:, prefix].toarray(), weight, prior[prefix], m)
    row = np.repeat(np.arange(votes.shape[0]), np.diff(votes.indptr))
    out = ~np.isin(votes.indices, prefix)  # voted songs past the prefix, one cell each
    row, col = row[out], votes.indices[out]
    cell = (votes.data[out] + m * prior[col]) / (weight[row] + m)  # _combine's floats
    rows = np.r_[np.repeat(np.arange(votes.shape[0]), width), row]
    songs = np.r_[np.tile(prefix, votes.shape[0]), col]
    scores = np.r_[dense.ravel(), cell]
    keep = scores > 0
    rows, songs, scores = top_entries(rows[keep], songs[keep], scores[keep], n)
    ids, vals = (
        np.full((votes.shape[0], n), -1, dtype=np.int32),
        np.full((votes.shape[0], n), np.nan),
    )
    place = np.arange(rows.size) - np.searchsorted(rows, rows)
    ids[rows, place], vals[rows, place] = songs, scores
    bound = (0.0 + m * prior[order[width]]) / (weight + m)
    unsure = np.flatnonzero(~(vals[:, -1] > bound))
    if unsure.size:
        ids[unsure], vals[unsure] = _dense_combined(votes[unsure], weight[unsure], prior, m, n)
    return ids, vals


def _dense_combined(
    votes: sp.csr_matrix, weight: np.ndarray, prior: np.ndarray, m: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    scores = _combine(votes.toarray(), weight, prior, m)
    scores[scores <= 0] = -np.inf
    return top_n(scores, n, overwrite=True)


def _combine(votes: np.ndarray, weight: np.ndarray, prior: np.ndarray, m: float) -> np.ndarray:
    return (votes + m * prior) / (weight[:, None] + m)


def _map_at_10(ids: np.ndarray, relevant: sp.csr_matrix) -> float:
    """MAP@k over the rows with a relevant song (dbt's metrics macro)."""
    relevant = relevant.tocsr()
    relevant.sort_indices()
    n_items = relevant.shape[1]
    n_rel = np.diff(relevant.indptr)
    rows = np.repeat(np.arange(relevant.shape[0], dtype=np.int64), n_rel)
    keys = rows * n_items + relevant.indices  # sorted: rows ascending, indices sorted
    ap = average_precision_at_k(ids, np.arange(ids.shape[0]), keys, n_items, n_rel)
    return float(ap[n_rel > 0].mean()) if (n_rel > 0).any() else 0.0


def _texts(bios: np.ndarray) -> list[str]:
    return ["" if b is None or b != b else str(b) for b in bios]


def _share(used: sp.csr_matrix) -> np.ndarray:
    counts = np.asarray(used.sum(axis=0)).ravel()
    return counts / max(used.shape[0], 1)
