"""The ranker of ContentRecommender's scores, cos(profile_u, song_i) + base_i.

The similarity is sparse only on paper: a few very common features (decades, words like "the")
make most of a profile's products nonzero. So the columns are split: *common* ones (in more
than COMMON_FRACTION of the songs) and the *rare* rest. A song sharing no rare feature with the
profile scores at most U_u + base_i, where U_u bounds the common part: the sum over groups of
common columns that never share a song (a decade one-hot is one group) of max_f p_uf x_f,max.
So the candidate order is the songs by base; a user's cells are the songs sharing a rare
feature with their profile (capped at base_i + |p_u| max|x_i|); the ceiling after the first m
songs is U_u + base[order[m]]. Base is appeal_weight x appeal + a tie-break: with weight 0 the
ceiling is weak and most users go to the dense ranking.

The exact scores reproduce the dense scores' floats bit for bit: scipy's sparse x dense product
sums each song's terms x_if * p_uf in the song row's stored order from 0, whichever other songs
and users are in the product, and ``pair_sims`` does the same term by term (a zero term adds
+0.0, which changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from models_py.recommenders import ranking
from models_py.recommenders.ranking import Cells
from models_py.recommenders.topn import MAX_BLOCK_CELLS

COMMON_FRACTION = 0.01  # a feature in more than this share of songs is "common"
# Songs of highest base tried first: the dense products are cheap next to the pairs.
FIRST_M = 256
MAX_BLOCK_PROFILES = 4_096  # users per block, each a dense profile column


def exclusive_groups(x_common: sp.csr_matrix) -> np.ndarray:
    """Group number per column: greedily, most frequent first, a column joins the first group
    none of whose columns occurs in a song with it (so a song has at most one column of each
    group: a one-hot block such as the decades becomes one group)."""
    pattern = sp.csr_matrix(x_common, copy=True)
    pattern.data = np.ones_like(pattern.data)
    co = (pattern.T @ pattern).toarray()
    together = co > 0
    group = np.full(co.shape[0], -1)
    members: list[list[int]] = []
    for f in np.argsort(-np.diag(co), kind="stable"):
        for g, cols in enumerate(members):
            if not together[f, cols].any():
                cols.append(int(f))
                group[f] = g
                break
        else:
            members.append([int(f)])
            group[f] = len(members) - 1
    return group


class ContentIndex:
    """What the ranking needs from a fitted model's song features, computed once at fit."""

    def __init__(self, features: sp.csr_matrix) -> None:
        n_items, n_features = features.shape
        df = np.bincount(features.indices, minlength=n_features)
        common = np.flatnonzero(df > COMMON_FRACTION * n_items)
        self.rare = np.ones(n_features, dtype=bool)
        self.rare[common] = False
        self.rare_pattern_t = sp.csr_matrix(_pattern(features, self.rare).T)  # features x songs
        norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
        self.max_norm = float(norms.max()) if norms.size else 0.0
        col_max = np.zeros(n_features)
        np.maximum.at(col_max, features.indices, features.data)
        groups = exclusive_groups(features[:, common]) if common.size else np.zeros(0, int)
        # Common columns by group, and where each group starts: for maximum.reduceat.
        by_group = np.argsort(groups, kind="stable")
        self.common = common[by_group]
        self.common_max = col_max[self.common]
        self.group_starts = np.flatnonzero(np.r_[True, np.diff(groups[by_group]) != 0])
        if not common.size:
            self.group_starts = np.zeros(0, dtype=np.int64)

    def common_bound(self, profile: sp.csr_matrix) -> np.ndarray:
        """Per profile row, an upper bound of its dot product with any song's common part."""
        if not self.common.size:
            return np.zeros(profile.shape[0])
        reach = profile[:, self.common].toarray() * self.common_max
        return np.maximum.reduceat(reach, self.group_starts, axis=1).sum(axis=1)


def _pattern(m: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """1 at the stored cells of ``m`` in the columns where ``columns`` is True."""
    data = columns[m.indices].astype(np.float64)
    # copy: eliminate_zeros works in place and would cut ``m``'s own index arrays.
    out = sp.csr_matrix((data, m.indices, m.indptr), shape=m.shape, copy=True)
    out.eliminate_zeros()
    return out


def pair_sims(
    features: sp.csr_matrix, profile_t: np.ndarray, row: np.ndarray, item: np.ndarray
) -> np.ndarray:
    """sum_f x[item, f] * profile_t[f, row], each summed from 0 over the song's stored entries
    in their order, as scipy's csr @ dense does (bitwise the same floats). ``profile_t``:
    features x users, as ``dense_profiles`` makes it."""
    out = np.zeros(item.size)
    if item.size == 0:
        return out
    lens = np.diff(features.indptr)[item]
    order = np.argsort(-lens, kind="stable")  # the live pairs at step k are a prefix
    lens_sorted = lens[order]
    start = features.indptr[item[order]]
    prow = row[order]
    acc = np.zeros(item.size)
    for k in range(int(lens_sorted[0])):
        live = int(np.searchsorted(-lens_sorted, -k, side="left"))  # pairs with > k entries
        at = start[:live] + k
        acc[:live] += features.data[at] * profile_t[features.indices[at], prow[:live]]
    out[order] = acc
    return out


def dense_profiles(profiles: sp.csr_matrix) -> np.ndarray:
    """A block of profiles as a dense features x users array, the layout scipy's csr x dense
    product reads as is (users x features would be copied into it first)."""
    return profiles.T.tocsr().toarray()


def products(songs: sp.csr_matrix, profile_t: np.ndarray) -> np.ndarray:
    """users x songs similarities of the ``dense_profiles`` block against ``songs``' rows. Each
    cell is summed over the song's row in its stored order, whichever other songs and users
    are in the product."""
    return np.ascontiguousarray(np.asarray(songs @ profile_t).T)


def dot_rows(left: sp.csr_matrix, right: sp.csr_matrix) -> np.ndarray:
    """Dense left @ right.T for a small block of ``left`` rows. Densifying the block and
    multiplying sparse x dense beats sparse x sparse here, since shared decades make the
    product mostly non-zero."""
    return products(right, dense_profiles(left))


@dataclass(frozen=True)
class ContentRanker:
    """Ranks cos(profiles[u], features[i]) + base[i] (see the module docstring)."""

    features: sp.csr_matrix  # songs x features, L2-normalised rows
    profiles: sp.csr_matrix  # users x features
    index: ContentIndex
    base: np.ndarray
    shortlist: bool = False

    per_song = False

    @cached_property
    def _order(self) -> np.ndarray:
        return np.lexsort((np.arange(self.base.size), -self.base))

    def order(self) -> np.ndarray:
        return self._order

    def first_level(self, n: int, n_excluded: np.ndarray) -> int:
        return max(FIRST_M, 2 * n + 64)

    def block_users(self) -> int:
        return max(1, min(MAX_BLOCK_PROFILES, MAX_BLOCK_CELLS // max(self.features.shape[1], 1)))

    def block(self, users: np.ndarray) -> _ContentBlock:
        return _ContentBlock(self, users)


class _ContentBlock:
    def __init__(self, ranker: ContentRanker, users: np.ndarray) -> None:
        self.ranker = ranker
        self.profiles = ranker.profiles[users]
        self.profile_t = dense_profiles(self.profiles)  # once per block: products and pairs
        # No similarity exceeds |p_u| x the largest |x_i|.
        norms = np.sqrt(np.asarray(self.profiles.multiply(self.profiles).sum(axis=1)).ravel())
        self.reach = norms * ranker.index.max_norm
        self.bound_common = ranker.index.common_bound(self.profiles)

    def scores(self, rows: np.ndarray, songs: np.ndarray) -> np.ndarray:
        profile_t = self.profile_t
        if rows.size < profile_t.shape[1]:  # rows are distinct: fewer is a subset
            profile_t = profile_t[:, rows]
        features = self.ranker.features
        out = products(features if songs.size == features.shape[0] else features[songs], profile_t)
        out += self.ranker.base[songs]
        return out

    @cached_property
    def _cells(self) -> Cells:
        """Songs sharing a rare feature with each profile (a product of 1s: counts, never 0)."""
        index = self.ranker.index
        shared = sp.csr_matrix(_pattern(self.profiles, index.rare) @ index.rare_pattern_t)
        row = np.repeat(np.arange(shared.shape[0]), np.diff(shared.indptr))
        song = shared.indices.astype(np.int64)
        reach = self.reach[row]
        cap = self.ranker.base[song] + reach
        return row, song, cap + ranking.SLACK * (np.abs(cap) + reach + 1.0)

    def cells(self) -> Cells:
        return self._cells

    def cell_scores(self, which: np.ndarray) -> np.ndarray:
        row, song, _ = self._cells
        sims = pair_sims(self.ranker.features, self.profile_t, row[which], song[which])
        return sims + self.ranker.base[song[which]]

    def ceiling(self, rows: np.ndarray, m: int) -> np.ndarray:
        base = self.ranker.base
        b_out = base[self.ranker.order()[m]]
        common = self.bound_common[rows]
        slack = ranking.SLACK * (common + abs(b_out) + np.abs(base).max() + 1.0)
        return common + b_out + slack
