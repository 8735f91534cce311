"""Ratings, the recommenders' data: the sparse matrix, the seeded split, new ratings."""

from __future__ import annotations

import numpy as np
import pytest

from models_py.recommenders import Ratings
from tests.dense_refs import N_ITEMS, N_USERS, small_matrix


def test_ratings_csr_keeps_zeros_and_rejects_duplicates() -> None:
    ratings = Ratings(np.array([1, 0, 1]), np.array([2, 1, 0]), np.array([0.0, -1.5, 2.0]), 3, 4)
    csr = ratings.to_csr()
    assert csr.shape == (3, 4) and csr.nnz == 3
    assert csr[1, 2] == 0.0 and 2 in csr[1].indices  # an explicit, stored zero
    np.testing.assert_array_equal(csr.toarray()[[0, 1], [1, 0]], [-1.5, 2.0])
    with pytest.raises(ValueError, match="duplicate"):
        Ratings(np.array([0, 0]), np.array([1, 1]), np.array([1.0, 2.0]), 1, 2)
    with pytest.raises(ValueError, match="codes"):
        Ratings(np.array([0, 3]), np.array([0, 0]), np.array([1.0, 2.0]), 3, 1)
    assert ratings.user.dtype == np.int32 and ratings.rating.dtype == np.float64


def test_split_is_seeded_disjoint_and_complete() -> None:
    ratings, _ = small_matrix(13)
    train, test = ratings.split(0.25, seed=5)
    train2, test2 = ratings.split(0.25, seed=5)
    assert np.array_equal(test.user, test2.user) and np.array_equal(test.item, test2.item)
    assert len(test) == round(0.25 * len(ratings)) and len(train) + len(test) == len(ratings)
    keys = lambda r: set(zip(r.user.tolist(), r.item.tolist(), strict=True))  # noqa: E731
    assert keys(train).isdisjoint(keys(test)) and keys(train) | keys(test) == keys(ratings)
    assert (train.n_users, train.n_items) == (ratings.n_users, ratings.n_items)
    assert not np.array_equal(ratings.split(0.25, seed=6)[1].user, test.user)


def test_ratings_with_rating_equals_new_ratings() -> None:
    ratings, _ = small_matrix(2)
    other = np.arange(len(ratings), dtype=float)
    got = ratings.with_rating(other)
    want = Ratings(ratings.user, ratings.item, other, N_USERS, N_ITEMS)
    assert (got.to_csr() != want.to_csr()).nnz == 0 and got.rating is not ratings.rating
    np.testing.assert_array_equal(ratings.rating, small_matrix(2)[0].rating)  # left alone
    with pytest.raises(ValueError):
        ratings.with_rating(other[:-1])
    with pytest.raises(ValueError):
        ratings.with_rating(np.full(len(ratings), np.nan))
