"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): a closed-form song x song model.

With X the influencers x songs usage (1 where a song was used), P = (X^T X + reg I)^-1 and
B = I - P diag(1 / diag P) (so diag B = 0), an influencer's scores are x_u B. The inverse is
dense songs x songs, computed in place (Cholesky ``dpotrf`` + ``dpotri``, float64, the one BLAS
thread of a model worker). Measured on this machine (2 cores shared, load 6-15): 0.4 s at
2,500 songs, 4.4 s at 5,000, 49 s at 10,000 (B alone 0.8 GB; a fit on the default data at
9,954 songs peaked at 1.9 GB); 20,000 did not finish in 15 minutes at low priority (cubic:
~8x 10,000's time, and 3.2 GB for B). So only the ``max_songs`` most used songs (ties: lower
code) enter B, never more than MAX_SONGS_CEILING.

The tail (songs past ``max_songs``, and songs nobody used in the fitted data) is served after
every EASE-scored song, most used first: its scores are the user's floor (below any score the
user's B rows can give) plus the popularity tie-break. A song outside B also contributes
nothing to anyone's scores.

Scores carry a popularity tie-break in [0, 1e-6) as ItemKNN's do: equal sums go to the more
used song, and a user with no used song in B gets the most used songs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.data import Ratings
from models_py.recommenders.parts import SongRows
from models_py.recommenders.ranking import TopN, empty_top_n
from models_py.recommenders.topn import block_rows, top_n_of_songs

# Past this many songs the inverse takes minutes and GBs on one thread (module docstring).
MAX_SONGS_CEILING = 10_000
TIEBREAK = 1e-6  # popularity tie-break scale, as ItemKNN's


def used_once(csr: sp.csr_matrix) -> sp.csr_matrix:
    """The same cells with value 1: which songs were used, whatever their rating."""
    out = csr.copy()
    out.data = np.ones_like(out.data)
    return out


def most_used(counts: np.ndarray, limit: int) -> np.ndarray:
    """Codes (ascending) of the ``limit`` most used songs with any use, ties to lower codes."""
    order = np.lexsort((np.arange(counts.size), -counts))
    top = order[: max(0, limit)]
    return np.sort(top[counts[top] > 0])


def popularity_tiebreak(counts: np.ndarray) -> np.ndarray:
    """TIEBREAK * counts / (max + 1): below any score difference that matters, in [0, 1e-6)."""
    if counts.size == 0:
        return counts.astype(np.float64)
    return TIEBREAK * counts / (counts.max() + 1.0)


def mirror_upper(a: np.ndarray, step: int = 1_024) -> None:
    """Copy the upper triangle of square ``a`` onto its lower one, a band of rows at a time
    (fancy indices of a whole triangle would cost as much memory as ``a``)."""
    n = a.shape[0]
    for r in range(0, n, step):
        band = a[r : r + step, r : r + step]
        a[r : r + step, :r] = a[:r, r : r + step].T
        band[...] = np.triu(band) + np.triu(band, 1).T


def ease_weights(gram: np.ndarray, reg: float) -> np.ndarray:
    """B = I - P diag(1 / diag P), P = (gram + reg I)^-1, computed in the memory of ``gram``
    (symmetric, so its transpose is the Fortran-ordered array LAPACK overwrites in place)."""
    n = gram.shape[0]
    if n == 0:
        return gram
    gram[np.diag_indices(n)] += reg
    factor, info = lapack.dpotrf(gram.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"X^T X + reg I is not positive definite (dpotrf {info})")
    inverse, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed ({info})")
    mirror_upper(inverse)  # dpotri fills the upper triangle only
    # P is symmetric: its transpose is P again, C-ordered (scipy's sparse @ dense would copy
    # a Fortran-ordered B on every product).
    inverse = inverse.T
    diag = inverse.diagonal().copy()
    inverse /= -diag[None, :]
    inverse[np.diag_indices(n)] = 0.0
    return inverse


class EASE(RatingRecommender):
    """EASE on which songs each influencer used (ratings only mark the cells)."""

    scores_are_ratings = False  # sums of B's weights
    predicts_ratings = False  # ranks songs; says nothing of Delta
    # B's rows by song; a song's row in B by position_ (-1: the tail).
    PARTS = {"position_": "song", "popularity_tiebreak_": "song", "weight_rows_": "song_rows"}

    def __init__(self, reg: float = 500.0, max_songs: int = MAX_SONGS_CEILING) -> None:
        self.reg = reg
        self.max_songs = max_songs

    def _fit(self, ratings: Ratings, csr: sp.csr_matrix) -> None:
        if self.reg <= 0:
            raise ValueError("reg must be > 0")
        used = used_once(csr)
        counts = np.bincount(used.indices, minlength=self.n_items_).astype(np.float64)
        self.songs_ = most_used(counts, min(int(self.max_songs), MAX_SONGS_CEILING))
        self.position_ = np.full(self.n_items_, -1, dtype=np.int64)  # song -> row of B
        self.position_[self.songs_] = np.arange(self.songs_.size)
        x = sp.csr_matrix(used[:, self.songs_])
        gram = (x.T @ x).toarray().astype(np.float64, copy=False)
        self.weights_ = ease_weights(gram, float(self.reg))
        self.popularity_tiebreak_ = popularity_tiebreak(counts)
        self._derive_tail()

    @property
    def weight_rows_(self) -> SongRows:
        """B's rows, by the song each belongs to (columns: B's songs in position order)."""
        return SongRows(self.songs_, self.weights_)

    @weight_rows_.setter
    def weight_rows_(self, rows: SongRows) -> None:
        self._weight_rows = rows

    def _derive_parts(self) -> None:
        """B from its rows (those a rebuild read; the others are 0: never summed)."""
        self.position_ = np.asarray(self.position_, dtype=np.int64)
        self.songs_ = np.flatnonzero(self.position_ >= 0)
        self.songs_ = self.songs_[np.argsort(self.position_[self.songs_])]
        read = self._weight_rows
        self.weights_ = np.zeros((self.songs_.size, self.songs_.size))
        self.weights_[self.position_[read.songs]] = read.rows
        self._derive_tail()

    def _derive_tail(self) -> None:
        by_use = np.lexsort((np.arange(self.n_items_), -self.popularity_tiebreak_))
        self.tail_order_ = by_use[self.position_[by_use] < 0]  # the tail, as it is served
        # Largest |B_ij| of each row: a user's scores never fall below -(sum over their songs).
        # (max and -min: np.abs would copy all of B)
        self.reach_ = np.maximum(
            self.weights_.max(axis=1, initial=0.0), -self.weights_.min(axis=1, initial=0.0)
        )

    def _in_b(self, users: np.ndarray) -> sp.csr_matrix:
        """The users' used songs among those in B, as rows over B's songs."""
        return sp.csr_matrix(used_once(self.used_[users])[:, self.songs_])

    def _floor(self, x: sp.csr_matrix) -> np.ndarray:
        """Per user, a score below every score of a song in B: the tail's base."""
        return -(x @ self.reach_) - 1.0

    def _score_block(self, users: np.ndarray) -> np.ndarray:
        x = self._in_b(users)
        out = np.repeat(self._floor(x)[:, None], self.n_items_, axis=1)
        out[:, self.songs_] = np.asarray(x @ self.weights_)
        out += self.popularity_tiebreak_
        return out

    def _predict_known(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The ranking score of each pair (not a Delta: ``predicts_ratings`` is False)."""
        x = self._in_b(user)
        col = self.position_[item]
        out = self._floor(x)
        inside = col >= 0
        rows = np.repeat(np.arange(user.size), np.diff(x.indptr))
        keep = inside[rows]
        sums = np.bincount(
            rows[keep],
            weights=self.weights_[x.indices[keep], col[rows[keep]]],
            minlength=user.size,
        )
        out[inside] = sums[inside]
        return out + self.popularity_tiebreak_[item]

    def _rank(
        self, users: np.ndarray, n: int, excluded: sp.csr_matrix | None, shelf: np.ndarray | None
    ) -> TopN:
        """The dense ranking's lists, scoring only the songs in B: every tail score is below
        every B score, so a user's list is their top of B, then (only when B leaves them short
        of n) the tail in served order. The scores are the dense scores' floats."""
        ids, vals = empty_top_n(users.size, n)
        songs, weights, tail = self.songs_, self.weights_, self.tail_order_
        if shelf is not None:
            songs, weights = songs[shelf[songs]], weights[:, shelf[songs]]
            tail = tail[shelf[tail]]
        if n == 0:
            return ids, vals
        step = block_rows(songs.size)
        for s in range(0, users.size, step):
            block = users[s : s + step]
            x = self._in_b(block)
            ex = excluded[block] if excluded is not None else None
            scores = np.asarray(x @ weights) + self.popularity_tiebreak_[songs]
            got = top_n_of_songs(scores, songs, ex, n)
            ids[s : s + step], vals[s : s + step] = got
            short = np.flatnonzero(got[0][:, -1] < 0)
            if short.size and tail.size:
                self._after_b(ids[s : s + step], vals[s : s + step], short, x, ex, tail)
        return ids, vals

    def _after_b(
        self,
        ids: np.ndarray,
        vals: np.ndarray,
        short: np.ndarray,
        x: sp.csr_matrix,
        excluded: sp.csr_matrix | None,
        tail: np.ndarray,
    ) -> None:
        """Fill the ``short`` rows' free places with the tail's first songs they may get.
        A loop over rows: only users with fewer than n unused songs in B reach it."""
        floor = self._floor(x[short])
        for k, row in enumerate(short):
            have = int((ids[row] >= 0).sum())
            free = tail
            if excluded is not None:
                free = tail[
                    ~np.isin(
                        tail, excluded.indices[excluded.indptr[row] : excluded.indptr[row + 1]]
                    )
                ]
            free = free[: ids.shape[1] - have]
            ids[row, have : have + free.size] = free
            vals[row, have : have + free.size] = floor[k] + self.popularity_tiebreak_[free]
