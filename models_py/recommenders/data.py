"""Explicit ratings (influencer x song -> Delta) as integer-coded triples."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


# eq=False: the fields are arrays, so generated __eq__/__hash__ would be ambiguous or fail.
@dataclass(frozen=True, eq=False)
class Ratings:
    """Observed ratings; ``rating`` may be exactly 0.0, which is a rating, not a missing cell."""

    user: np.ndarray  # int32 codes in [0, n_users)
    item: np.ndarray  # int32 codes in [0, n_items)
    rating: np.ndarray  # float64
    n_users: int
    n_items: int

    def __post_init__(self) -> None:
        user, item, rating = (np.asarray(a) for a in (self.user, self.item, self.rating))
        if not user.ndim == item.ndim == rating.ndim == 1:
            raise ValueError("user, item and rating must be 1-D")
        if not user.size == item.size == rating.size:
            raise ValueError("user, item and rating must have the same length")
        n_users, n_items = int(self.n_users), int(self.n_items)
        if n_users < 0 or n_items < 0:
            raise ValueError("n_users and n_items must be >= 0")
        for name, codes, n in (("user", user, n_users), ("item", item, n_items)):
            if codes.size and (codes.dtype.kind not in "iu" or codes.min() < 0 or codes.max() >= n):
                raise ValueError(f"{name} codes must be integers in [0, {n})")
        if rating.size and not np.isfinite(rating).all():
            raise ValueError("ratings must be finite")
        user, item = user.astype(np.int32, copy=False), item.astype(np.int32, copy=False)
        # Sort once by (user, item): gives the CSR layout and makes duplicates adjacent.
        order = np.lexsort((item, user))
        su, si = user[order], item[order]
        dup = (su[1:] == su[:-1]) & (si[1:] == si[:-1])
        if dup.any():
            k = int(np.argmax(dup))
            raise ValueError(f"duplicate rating for (user {su[k]}, item {si[k]})")
        for name, value in (
            ("user", user),
            ("item", item),
            ("rating", rating.astype(np.float64, copy=False)),
            ("n_users", n_users),
            ("n_items", n_items),
            ("_order", order),
        ):
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return int(self.rating.size)

    def to_csr(self) -> sp.csr_matrix:
        """users x items with the observed entries only; explicit zeros are kept."""
        order = self._order  # type: ignore[attr-defined]
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.user, minlength=self.n_users), out=indptr[1:])
        # Built from (data, indices, indptr) directly: the COO route would drop nothing here but
        # sums duplicates silently; this route keeps exactly the observed cells, sorted.
        return sp.csr_matrix(
            (self.rating[order], self.item[order].copy(), indptr),
            shape=(self.n_users, self.n_items),
        )

    def with_rating(self, rating: np.ndarray) -> Ratings:
        """The same cells with other ratings: the codes are not sorted and checked again (they
        were when these were made, and CovariateAdjusted refits on every residual)."""
        rating = np.asarray(rating, dtype=np.float64)
        if rating.shape != self.rating.shape:
            raise ValueError("one rating per cell")
        if rating.size and not np.isfinite(rating).all():
            raise ValueError("ratings must be finite")
        out = copy.copy(self)
        object.__setattr__(out, "rating", rating)
        return out

    def subset(self, index: np.ndarray) -> Ratings:
        """The ratings at ``index`` (positions or a boolean mask), in the same code space."""
        return Ratings(
            self.user[index], self.item[index], self.rating[index], self.n_users, self.n_items
        )

    def split(self, test_fraction: float, seed: int) -> tuple[Ratings, Ratings]:
        """Deterministic uniform random (train, test) split of the rows (the report's 75:25 with
        ``test_fraction=0.25``). Both halves keep the full code space, so a user or item whose
        ratings all land in test is simply unseen by a model fitted on train."""
        if not 0.0 < test_fraction < 1.0:
            raise ValueError("test_fraction must be in (0, 1)")
        perm = np.random.default_rng(seed).permutation(len(self))
        n_test = round(test_fraction * len(self))
        return self.subset(np.sort(perm[n_test:])), self.subset(np.sort(perm[:n_test]))
