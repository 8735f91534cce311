"""The one check every exact non-dense ranking is held to: the dense ranking's output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from models_py.recommenders.base import RatingRecommender


def assert_recommend_equals_dense(
    model: RatingRecommender,
    users: np.ndarray,
    dense: Callable[..., tuple[np.ndarray, np.ndarray]],
    ns: Sequence[int],
    candidate_sets: Sequence[np.ndarray | None],
) -> int:
    """model.recommend == dense(model, users, n, exclude_used, candidates), ids and scores, for
    every n, both exclude_used and every candidate set; returns the number of comparisons."""
    calls = 0
    for n in ns:
        for exclude_used in (True, False):
            for candidates in candidate_sets:
                ids, vals = model.recommend(users, n, exclude_used, candidates)
                want_ids, want_vals = dense(model, users, n, exclude_used, candidates)
                assert (ids == want_ids).all(), (n, exclude_used, candidates is not None)
                np.testing.assert_array_equal(vals, want_vals)
                calls += 1
    return calls
