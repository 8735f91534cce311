"""The dense references the rating recommenders' predictions and rankings are checked against,
and the small matrix they are checked on, with the awkward cases: ratings of exactly 0.0, a user
and a song with no training ratings, a user whose ratings are all 0.0."""

from __future__ import annotations

import numpy as np

from models_py.recommenders import RatingRecommender, Ratings

N_USERS, N_ITEMS = 30, 20


def small_matrix(seed: int = 0, constant_item: bool = False) -> tuple[Ratings, np.ndarray]:
    """~30% observed, 15% of ratings exactly 0.0; user 3 and item 5 unrated, user 7 all 0.0.
    ``constant_item``: item 9 rated 2.0 by every user (a zero-variance column for Pearson)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((N_USERS, N_ITEMS)) < 0.3
    mask[3], mask[:, 5] = False, False
    mask[7, :4] = True
    values = np.round(rng.uniform(-7, 5, (N_USERS, N_ITEMS)), 1)
    values[rng.random((N_USERS, N_ITEMS)) < 0.15] = 0.0
    values[7] = 0.0
    if constant_item:
        mask[:, 9], values[:, 9] = True, 2.0
    user, item = np.nonzero(mask)
    return Ratings(user, item, values[user, item], N_USERS, N_ITEMS), mask


def dense(ratings: Ratings) -> np.ndarray:
    x = np.zeros((ratings.n_users, ratings.n_items))
    x[ratings.user, ratings.item] = ratings.rating
    return x


def all_pairs(n_users: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    u, i = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    return u.ravel(), i.ravel()


def predict_all(model: RatingRecommender, ratings: Ratings) -> np.ndarray:
    u, i = all_pairs(ratings.n_users, ratings.n_items)
    return model.predict(u, i, clip=False).reshape(ratings.n_users, ratings.n_items)


def assert_same_ranking(
    ids: np.ndarray, vals: np.ndarray, scores: np.ndarray, used: np.ndarray, users: np.ndarray
) -> None:
    """recommend's output is a correct ranking of ``scores`` (dense reference, one row per user):
    its scores are the reference's top-n and each id carries its own reference score, so ids may
    only differ from the reference where two scores tie up to rounding."""
    n = ids.shape[1]
    ref_ids, ref_vals = brute_ranking(scores[users], used[users], n + 1)  # +1: ties at the cut
    np.testing.assert_allclose(vals, ref_vals[:, :n], rtol=1e-9, atol=1e-9)
    ok = ids >= 0
    assert (ok == (ref_ids[:, :n] >= 0)).all()
    np.testing.assert_allclose(vals[ok], scores[users][np.nonzero(ok)[0], ids[ok]], atol=1e-9)
    assert not (used[users][np.nonzero(ok)[0], ids[ok]]).any()
    near_tie = np.zeros(ref_ids.shape, dtype=bool)
    gaps = np.abs(np.diff(ref_vals, axis=1)) < 1e-9
    near_tie[:, 1:] |= gaps
    near_tie[:, :-1] |= gaps
    assert (ids == ref_ids[:, :n])[~near_tie[:, :n]].all()


def brute_ranking(scores: np.ndarray, used: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Python-sorted reference: score desc, item asc, used items and -inf/nan dropped."""
    ids = np.full((scores.shape[0], n), -1, dtype=np.int32)
    vals = np.full((scores.shape[0], n), np.nan)
    for r, row in enumerate(scores):
        keep = [j for j in range(row.size) if not used[r, j] and np.isfinite(row[j])]
        keep = sorted(keep, key=lambda j: (-row[j], j))[:n]
        ids[r, : len(keep)], vals[r, : len(keep)] = keep, row[keep]
    return ids, vals
