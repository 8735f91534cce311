"""Exact top-n of ContentRecommender's scores, cos(profile_u, song_i) + base_i, without scoring
every song for every influencer.

The similarity is sparse only on paper: a few very common features (decades, words like "the")
make ~75% of a profile's products nonzero. So the columns are split: *common* ones (in more
than 1/100 of the songs) and the *rare* rest. A song sharing no rare feature with the profile
scores at most U_u + base_i, where U_u bounds the common part: sum over groups of common columns
that never share a song (a decade one-hot is one group) of max_f p_uf x_f,max. Each user's
scores are computed exactly on the M songs of highest base (densely, as a block) and on the
songs sharing a rare feature (pair by pair; those whose base + |p_u| max|x_i| cannot reach the
block's n-th are skipped), and ranked as ``base.top_n`` ranks them; if the n-th clears
U_u + (the best base left out) by a strict margin, no other song can enter or tie. Users who
fail are retried with 4x the songs (when their n-th already clears that level's bound), then
ranked densely. Base is appeal_weight x appeal + a tie-break: with weight 0 the bound is weak
(~25% settle), and when the first block settles under half its users the rest go dense.
Default data, appeal_weight 1 (what tuning picks): 99.5% settle at M = 256 or 1,024.

The exact scores reproduce ``_score_block``'s floats bit for bit: scipy's sparse x dense
product sums each song's terms x_if * p_uf in the song row's stored order from 0, whichever
other songs and users are in the product, and ``pair_sims`` does the same term by term (a zero
term adds +0.0, which changes nothing).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import MAX_BLOCK_CELLS, cell_keys, top_n_of_candidates
from models_py.recommenders.sparse_rank import _top_entries

COMMON_FRACTION = 0.01  # a feature in more than this share of songs is "common"
SLACK = 1e-9  # relative margin on the bound for float rounding (a few ulps)
GROWTH = 4
FIRST_M = 256  # songs of highest base tried first
# Below this share of users settled (the first block tells), the rest are ranked densely: the
# pruned path costs about 2x the dense one when it fails.
MIN_SETTLED = 0.5


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


def content_top_n(
    model,  # noqa: ANN001 - a fitted ContentRecommender
    users: np.ndarray,
    n: int,
    exclude_used: bool,
    base: np.ndarray,
    base_order: np.ndarray,
    dense,  # noqa: ANN001 - (users) -> (ids, vals), the dense ranking of those users
    shortlist: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``recommend`` of ``users`` without candidates, equal to the dense ranking. With
    ``shortlist`` (catalogue scale, see shortlist_rank) a user the bound does not settle keeps
    the top n of the songs scored for them instead of being ranked densely."""
    index: ContentIndex = model.index_
    features = model.features_
    n_items = features.shape[0]
    ids = np.full((users.size, n), -1, dtype=np.int32)
    vals = np.full((users.size, n), np.nan)
    if n == 0 or users.size == 0 or n_items == 0:
        return ids, vals
    base_rank = np.empty(n_items, dtype=np.int64)
    base_rank[base_order] = np.arange(n_items)
    step = max(1, min(4_096, MAX_BLOCK_CELLS // max(features.shape[1], 1)))
    dense_rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    settled = 0
    for s in range(0, users.size, step):
        rows = np.arange(s, min(s + step, users.size))
        if not shortlist and s and settled < MIN_SETTLED * s:  # the bound fails these scores
            dense_rows.append(np.arange(s, users.size))
            break
        left = _block(
            model, index, users[rows], n, exclude_used, base, base_order, base_rank, shortlist
        )
        got_ids, got_vals, ok = left
        ids[rows[ok]], vals[rows[ok]] = got_ids[ok], got_vals[ok]
        dense_rows.append(rows[~ok])
        settled += int(ok.sum())
    rest = np.concatenate(dense_rows)
    if rest.size:
        ids[rest], vals[rest] = dense(users[rest])
    return ids, vals


def dense_profiles(profiles: sp.csr_matrix) -> np.ndarray:
    """A block of profiles as a dense features x users array, the layout scipy's csr x dense
    product reads as is (users x features would be copied into it: ~1/3 of the time)."""
    return profiles.T.tocsr().toarray()


def products(songs: sp.csr_matrix, profile_t: np.ndarray) -> np.ndarray:
    """users x songs similarities of the ``dense_profiles`` block against ``songs``' rows. Each
    cell is summed over the song's row in its stored order, whichever other songs and users
    are in the product."""
    return np.ascontiguousarray(np.asarray(songs @ profile_t).T)


def dot_rows(left: sp.csr_matrix, right: sp.csr_matrix) -> np.ndarray:
    """Dense left @ right.T for a small block of ``left`` rows. Densifying the block and
    multiplying sparse x dense is ~3x faster than sparse x sparse here (measured), since
    shared decades make the product mostly non-zero."""
    return products(right, dense_profiles(left))


def _block(
    model,  # noqa: ANN001
    index: ContentIndex,
    users: np.ndarray,
    n: int,
    exclude_used: bool,
    base: np.ndarray,
    base_order: np.ndarray,
    base_rank: np.ndarray,
    shortlist: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, scores, settled) of one block of users: see the module docstring. With
    ``shortlist`` every user tried counts as settled, on the songs scored at their last try."""
    features = model.features_
    n_items = features.shape[0]
    b = users.size
    ids = np.full((b, n), -1, dtype=np.int32)
    vals = np.full((b, n), np.nan)
    done = np.zeros(b, dtype=bool)
    prof = model.profiles_[users]
    # Songs sharing a rare feature with each profile (a product of 1s: counts, never 0).
    shared = sp.csr_matrix(_pattern(prof, index.rare) @ index.rare_pattern_t)
    s_row = np.repeat(np.arange(b), np.diff(shared.indptr))
    s_item = shared.indices.astype(np.int64)
    used = model.used_[users] if exclude_used else None
    used_keys = None
    if used is not None and used.nnz:
        used.sort_indices()
        used_keys = cell_keys(used)
    profile_t = dense_profiles(prof)  # once per block: the dense products and the pairs
    # No similarity exceeds |p_u| x the largest |x_i|: a shared song whose base plus that is
    # below the n-th best of the dense part cannot enter the top n (no need to score it).
    reach = np.sqrt(np.asarray(prof.multiply(prof).sum(axis=1)).ravel()) * index.max_norm
    bound_common = index.common_bound(prof)
    n_shared = np.bincount(s_row, minlength=b)
    m = min(n_items, max(FIRST_M, 2 * n + 64))
    # Users sharing rare features with over a quarter of the songs: the dense path is as cheap.
    pending = np.flatnonzero((n_shared <= n_items // GROWTH) | (m == n_items))
    while pending.size:
        # The m songs of highest base, scored densely (by code: top_n's ties by column are
        # then ties by code), and the shared songs outside them, pair by pair.
        cand = np.sort(base_order[:m])
        scores = products(features[cand], profile_t[:, pending] if pending.size < b else profile_t)
        scores += base[cand]
        sub = used[pending] if used is not None else None
        top_ids, top_vals = top_n_of_candidates(scores, cand, sub, n)
        in_pending = np.zeros(b, dtype=bool)
        in_pending[pending] = True
        floor = np.full(b, -np.inf)
        floor[pending] = np.where(np.isnan(top_vals[:, -1]), -np.inf, top_vals[:, -1])
        slack = SLACK * (np.abs(floor) + reach + 1.0)
        hope = base[s_item] + reach[s_row] >= np.nan_to_num(floor - slack, nan=-np.inf)[s_row]
        take = in_pending[s_row] & (base_rank[s_item] >= m) & hope
        row, item = s_row[take], s_item[take]
        if used_keys is not None:
            keep = ~np.isin(row * n_items + item, used_keys)
            row, item = row[keep], item[keep]
        score = pair_sims(features, profile_t, row, item) + base[item]
        # Merge the two top-n lists of each user (disjoint songs): the top n of both.
        got = top_ids >= 0
        p_row = np.repeat(pending, n).reshape(pending.size, n)
        t_row, t_item, t_val = _top_entries(
            np.r_[p_row[got], row], np.r_[top_ids[got], item], np.r_[top_vals[got], score], n
        )
        slot = np.arange(t_row.size) - np.searchsorted(t_row, t_row)
        got_ids = np.full((b, n), -1, dtype=np.int32)
        got_vals = np.full((b, n), np.nan)
        got_ids[t_row, slot], got_vals[t_row, slot] = t_item, t_val
        if m == n_items:
            ok = in_pending  # every song was scored
        else:
            b_out = base[base_order[m]]
            bound = bound_common + b_out
            slack = SLACK * (bound_common + abs(b_out) + np.abs(base).max() + 1.0)
            # A song left out scores <= bound; a tie could go to it by its code, so strictly
            # above. nan (fewer than n scored) fails too.
            ok = in_pending & (got_vals[:, n - 1] > bound + slack)
        ids[ok], vals[ok], done[ok] = got_ids[ok], got_vals[ok], True
        retry = np.zeros(b, dtype=bool)
        if m < n_items and m * GROWTH <= n_items // GROWTH:
            # Retried with 4x the songs: users whose n-th best already clears the next level's
            # bound (the rest, e.g. with appeal_weight 0, would not settle: ranked densely).
            nxt = bound_common + base[base_order[m * GROWTH]]
            retry = in_pending & ~ok & (got_vals[:, n - 1] > nxt)
        if shortlist:  # the songs scored so far are the shortlist of those not retried
            keep = in_pending & ~ok & ~retry
            ids[keep], vals[keep], done[keep] = got_ids[keep], got_vals[keep], True
        pending = np.flatnonzero(retry)
        m *= GROWTH
    return ids, vals, done
