"""The blocked top-n ranking (topn) against a Python-sorted reference: top_n itself, and recommend
as the ranking of a model's predictions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone

from models_py.recommenders import BiasBaseline, BiasedMF, GlobalMean, RatingRecommender, ReportSVD
from models_py.recommenders.topn import top_n
from tests.dense_refs import N_USERS, brute_ranking, predict_all, small_matrix


@pytest.mark.parametrize(
    "model",
    [GlobalMean(), BiasBaseline(), BiasedMF(n_factors=3, n_iter=5), ReportSVD(n_factors=4)],
    ids=["GlobalMean", "BiasBaseline", "BiasedMF", "ReportSVD"],
)
def test_recommend_equals_brute_force_ranking_of_predictions(model: RatingRecommender) -> None:
    ratings, mask = small_matrix(12)
    model = clone(model).fit(ratings)
    ids, vals = model.recommend(np.arange(N_USERS), 7)
    ref_ids, ref_vals = brute_ranking(predict_all(model, ratings), mask, 7)
    np.testing.assert_allclose(vals, ref_vals, atol=1e-12)
    assert (ids == ref_ids).all()


@settings(deadline=None)
@given(
    scores=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 25)),
        elements=st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, -np.inf, np.nan]),
    ),
    n=st.integers(0, 30),
)
def test_top_n_matches_a_sorted_reference(scores: np.ndarray, n: int) -> None:
    ids, vals = top_n(scores.copy(), n)
    ref_ids, ref_vals = brute_ranking(scores, np.zeros(scores.shape, dtype=bool), n)
    assert (ids == ref_ids).all()
    np.testing.assert_array_equal(vals, ref_vals)
