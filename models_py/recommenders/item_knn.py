"""Item KNN as in the report (section 4.3): brute-force cosine neighbours of song columns.

The report fits ``NearestNeighbors(metric="cosine", algorithm="brute")`` on the song x influencer
pivot and lists a song's 5 nearest songs, reading the cosine DISTANCE as a similarity ("closer
songs ... close to 1") and sorting it descending, so its list runs from the least to the most
similar of the five. Here similarity = 1 - distance, neighbours are kept most similar first, and
only the top ``n_neighbors`` per song are stored.

The neighbours are the ones sklearn's brute force finds, computed sparse: two songs' cosine is
nonzero only when some influencer used both, so a block of songs' similarities is one sparse
product and its top k come from sorting those entries; songs sharing no influencer (similarity
0) fill any remaining places, lowest codes first. sklearn densified every songs x songs block
instead, which grows with songs^2.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender, as_codes
from models_py.recommenders.data import Ratings
from models_py.recommenders.sparse_rank import SparseRanker

# Songs per block of the sparse similarity product: bounds the co-rated pairs held at once.
ITEM_BLOCK = 2_048
# Users per block when ranking: ~k x songs used candidates each, not a dense row of all songs.
SPARSE_BLOCK_USERS = 16_384


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) of every position in the ranges [lo[o], hi[o])."""
    lens = hi - lo
    owner = np.repeat(np.arange(lo.size), lens)
    return owner, np.arange(owner.size) - (np.cumsum(lens) - lens)[owner] + lo[owner]


def lowest_free(
    owner: np.ndarray, taken: np.ndarray, need: np.ndarray, n: int, presorted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group o, the need[o] lowest codes in [0, n) not among its ``taken`` codes (no
    duplicates within a group), as (group, slot m, code): the m-th free code is
    m + #{t_j : t_j - j <= m} over the group's sorted t. ``presorted``: already by (owner, t)."""
    if not presorted:
        order = np.lexsort((taken, owner))
        owner, taken = owner[order], taken[order]
    first = np.searchsorted(owner, np.arange(need.size))
    gaps = taken - (np.arange(taken.size) - first[owner])  # free codes below each taken code
    big = n + 1
    q_owner = np.repeat(np.arange(need.size), need)
    q_m = np.arange(q_owner.size) - (np.cumsum(need) - need)[q_owner]
    below = np.searchsorted(owner * big + gaps, q_owner * big + q_m, side="right")
    code = q_m + below - first[q_owner]
    ok = code < n
    return q_owner[ok], q_m[ok], code[ok]


def _fill(
    ids: np.ndarray,
    sims: np.ndarray,
    entries: tuple[np.ndarray, np.ndarray],
    bounds: np.ndarray,
    short: np.ndarray,
    have: np.ndarray,
) -> None:
    """Complete rows ``short`` (global codes; ``have`` places filled) with songs of similarity
    0, lowest codes first, then negative similarities if still short. ``entries`` (cols, vals)
    hold row r's similarities (its own set to 0), codes ascending, at bounds[r]:bounds[r + 1]."""
    n, k = ids.shape
    cols, vals = entries
    owner, pos = ranges(bounds[short], bounds[short + 1])
    nonzero = vals[pos] != 0
    taken_owner = np.r_[owner[nonzero], np.arange(short.size)]  # its nonzeros and itself
    taken = np.r_[cols[pos][nonzero], short]
    group, slot, code = lowest_free(taken_owner, taken, k - have, n)
    ids[short[group], have[group] + slot] = code
    filled = have + np.bincount(group, minlength=short.size)
    for o in np.flatnonzero(filled < k):  # only when a song shares users with ~all others
        lo, hi = bounds[short[o]], bounds[short[o] + 1]
        neg = np.flatnonzero(vals[lo:hi] < 0) + lo
        neg = neg[np.argsort(-vals[neg], kind="stable")][: k - filled[o]]
        ids[short[o], filled[o] : filled[o] + neg.size] = cols[neg]
        sims[short[o], filled[o] : filled[o] + neg.size] = vals[neg]


def cosine_top_k(x: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For every row of ``x``, the k other rows of highest cosine similarity (sim desc, then code
    asc; rows sharing no column, or of zero norm, have similarity 0), like sklearn's brute-force
    ``kneighbors()``. Returns (int32 ids, float64 similarities), each rows x k."""
    n = x.shape[0]
    ids = np.full((n, k), -1, dtype=np.int32)
    sims = np.zeros((n, k))
    if k == 0:
        return ids, sims
    sq = np.asarray(x.multiply(x).sum(axis=1)).ravel()
    inv = np.divide(1.0, np.sqrt(sq), out=np.zeros(n), where=sq > 0)
    xn = sp.csr_matrix(sp.diags_array(inv) @ x)
    xt = xn.T.tocsr()
    for start in range(0, n, ITEM_BLOCK):
        prod = sp.csr_matrix(xn[start : start + ITEM_BLOCK] @ xt)
        prod.sort_indices()  # codes ascending within a row: the tie-break the sorts keep
        m = prod.shape[0]
        local = np.repeat(np.arange(m, dtype=np.int16), np.diff(prod.indptr))
        cols, vals = prod.indices, np.clip(prod.data, -1.0, 1.0)
        vals[cols == local.astype(np.int64) + start] = 0.0  # never its own neighbour
        # Positive entries by similarity desc, then (stable, radix on int16) by row: a 3-key
        # lexsort of every entry would be most of the fit.
        pos = np.flatnonzero(vals > 0)
        pos = pos[np.argsort(-vals[pos], kind="stable")]
        pos = pos[np.argsort(local[pos], kind="stable")]
        row = local[pos].astype(np.int64)
        rank = np.arange(pos.size) - np.searchsorted(row, np.arange(m))[row]
        top = rank < k
        ids[row[top] + start, rank[top]] = cols[pos[top]]
        sims[row[top] + start, rank[top]] = vals[pos[top]]
        have = np.bincount(row[top], minlength=m)
        short = np.flatnonzero(have < k)
        if short.size:
            # Bounds indexed by global row codes (rows before `start` are empty here).
            bounds = np.r_[np.zeros(start, dtype=np.int64), prod.indptr]
            _fill(ids, sims, (cols, vals), bounds, short + start, have[short])
    return ids, sims


def user_means(csr: sp.csr_matrix, fallback: float) -> np.ndarray:
    """Mean observed rating per user; ``fallback`` for users without ratings."""
    n = np.diff(csr.indptr)
    sums = np.asarray(csr.sum(axis=1)).ravel()
    return np.where(n > 0, sums / np.maximum(n, 1), fallback)


WEIGHTINGS = (None, "bm25", "tfidf")


def weighted_usage(csr: sp.csr_matrix, weighting: str | None) -> sp.csr_matrix:
    """What the cosine compares: the fitted ratings as they are (None), or which songs were
    used (1s) weighted as ``implicit``'s BM25Recommender / TFIDFRecommender weigh them, songs
    as documents and influencers as terms (an influencer who used many songs says less)."""
    if weighting is None:
        return csr
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}")
    from implicit.nearest_neighbours import bm25_weight, tfidf_weight

    used = csr.copy()
    used.data = np.ones_like(used.data)
    songs_by_users = used.T.tocsr()
    out = bm25_weight(songs_by_users) if weighting == "bm25" else tfidf_weight(songs_by_users)
    return sp.csr_matrix(out.T)


class ItemKNN(RatingRecommender):
    """Top-k cosine item neighbours (the report's brute force, computed sparse); with
    ``weighting`` ("bm25", "tfidf") the cosine is of usage weighted as implicit weighs it."""

    scores_are_ratings = False  # sums of similarities
    PARTS = {"item_similarity_": "song_pairs", "popularity_tiebreak_": "song"}

    def __init__(self, n_neighbors: int = 20, weighting: str | None = None) -> None:
        self.n_neighbors = n_neighbors
        self.weighting = weighting

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        k = max(0, min(int(self.n_neighbors), self.n_items_ - 1))
        columns = weighted_usage(csr, self.weighting).T.tocsr()
        self.neighbors_, self.similarities_ = cosine_top_k(columns, k)
        # items x items with k entries per row: score(user, j) = sum over used i of sim(i, j).
        self.item_similarity_ = sp.csr_matrix(
            (self.similarities_.ravel(), self.neighbors_.ravel(), np.arange(self.n_items_ + 1) * k),
            shape=(self.n_items_, self.n_items_),
        )
        # Popularity in [0, 1e-6): breaks ties among equal similarity sums, and is the whole
        # ranking for a user with no used song (every sum 0), instead of the lowest item codes.
        counts = np.bincount(csr.indices, minlength=self.n_items_).astype(np.float64)
        self.popularity_tiebreak_ = 1e-6 * counts / (counts.max() + 1.0) if counts.size else counts
        self._derive_parts()

    def _derive_parts(self) -> None:
        self.user_mean_ = user_means(self.used_, self.global_mean_)
        tb = self.popularity_tiebreak_
        self.tiebreak_order_ = np.lexsort((np.arange(tb.size), -tb))  # songs by tie-break desc

    def similar_items(self, items: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n most similar items to each of ``items`` (-1 / nan padding beyond k)."""
        items = as_codes(items, "items")
        ids = np.full((items.size, n), -1, dtype=np.int32)
        sims = np.full((items.size, n), np.nan)
        m = min(n, self.neighbors_.shape[1])
        ids[:, :m], sims[:, :m] = self.neighbors_[items, :m], self.similarities_[items, :m]
        return ids, sims

    def _predict_known(
        self, user: np.ndarray, item: np.ndarray, chunk: int = 1 << 14
    ) -> np.ndarray:
        """Similarity-weighted mean of the user's ratings of the item's neighbours."""
        out = self.user_mean_[user]
        slots = _NeighbourSlots(self.neighbors_)
        for s in range(0, user.size, chunk):
            u, i = user[s : s + chunk], item[s : s + chunk]
            found, r = self._neighbour_ratings(u, i, slots)
            sim = np.where(found, self.similarities_[i], 0.0)
            den = np.abs(sim).sum(axis=1)
            ok = den > 0
            out[s : s + chunk][ok] = (sim * r).sum(axis=1)[ok] / den[ok]
        return out

    def _neighbour_ratings(
        self, user: np.ndarray, item: np.ndarray, slots: _NeighbourSlots
    ) -> tuple[np.ndarray, np.ndarray]:
        """(whether user[p] rated neighbours_[item[p], s], that rating or 0), pairs x k. Found
        from the user's few ratings (each placed at its slot among the item's neighbours),
        not by looking up all k neighbours of every pair among every rating."""
        found = np.zeros((user.size, self.neighbors_.shape[1]), dtype=bool)
        r = np.zeros(found.shape)
        pair, pos = ranges(self.used_.indptr[user], self.used_.indptr[user + 1])
        hit, slot = slots.find(item[pair], self.used_.indices[pos])
        found[pair[hit], slot] = True
        r[pair[hit], slot] = self.used_.data[pos[hit]]
        return found, r

    def _similarity_sums(self, users: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(the users' used songs as 1s, sum of similarities to them: sparse, users x songs)."""
        used = self.used_[users]
        used.data = np.ones_like(used.data)  # implicit-style: which items, not how rated
        return used, sp.csr_matrix(used @ self.item_similarity_)

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        return self._similarity_sums(users)[1].toarray() + self.popularity_tiebreak_

    def ranker(self) -> SparseRanker:
        """The sparse sums are the cells; the tie-break is the per-song base."""
        return SparseRanker(
            self.popularity_tiebreak_,
            self.tiebreak_order_,
            lambda users: self._similarity_sums(users)[1],
            users_per_block=SPARSE_BLOCK_USERS,
        )


class _NeighbourSlots:
    """Where a song stands among another's neighbours: keys item * n + neighbour, sorted."""

    def __init__(self, neighbors: np.ndarray) -> None:
        n_items, k = neighbors.shape
        order = np.argsort(neighbors, axis=1, kind="stable")  # -1 padding sorts first
        codes = np.take_along_axis(neighbors, order, axis=1).astype(np.int64)
        keys = np.arange(n_items, dtype=np.int64)[:, None] * (n_items + 1) + codes + 1
        self.keys, self.slots, self.n_items = keys.ravel(), order.ravel(), n_items

    def find(self, item: np.ndarray, song: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(whether ``song`` is among ``item``'s neighbours, its slot there) per pair."""
        if self.keys.size == 0:
            return np.zeros(item.size, dtype=bool), np.zeros(0, dtype=np.int64)
        want = item.astype(np.int64) * (self.n_items + 1) + song + 1
        at = np.minimum(np.searchsorted(self.keys, want), self.keys.size - 1)
        hit = self.keys[at] == want
        return hit, self.slots[at[hit]]
