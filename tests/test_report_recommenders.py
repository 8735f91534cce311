"""The report's recommenders (ReportUserCF, ReportItemCF, ReportSVD) against a dense numpy
transcription of the report's own code (section 4.2's ``predict`` and 4.4's ``svds``) on the
small matrix with the awkward cases (tests/dense_refs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.linalg import svds

from models_py.recommenders import ReportItemCF, ReportSVD, ReportUserCF, report_cf
from scripts.benchmarks.report_dense import report_predict, report_weights
from tests.dense_refs import N_ITEMS, N_USERS, assert_same_ranking, dense, predict_all, small_matrix


@pytest.mark.parametrize("sparse_pairs", [False, True])
@pytest.mark.parametrize("constant_item", [False, True])
@pytest.mark.parametrize("weights", ["distance", "similarity"])
@pytest.mark.parametrize("similarity", ["cosine", "pearson"])
@pytest.mark.parametrize("kind", ["user", "item"])
def test_report_cf_equals_the_reports_dense_code(
    kind: str,
    similarity: str,
    weights: str,
    constant_item: bool,
    sparse_pairs: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if sparse_pairs:  # pairs read from the sparse products, never from a densified block
        monkeypatch.setattr(report_cf, "DENSE_SHARE", 0)
    ratings, mask = small_matrix(1, constant_item)
    x = dense(ratings)
    expected = report_predict(
        x, report_weights(x if kind == "user" else x.T, similarity, weights), kind
    )
    cls = ReportUserCF if kind == "user" else ReportItemCF
    model = cls(similarity=similarity, weights=weights, block_size=7).fit(ratings)
    got = predict_all(model, ratings)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # recommend ranks the same matrix, blocked, with the used items removed
    users = np.arange(N_USERS)
    assert_same_ranking(*model.recommend(users, 6), expected, mask, users)


def test_report_weights_are_distances_not_similarities() -> None:
    """The faithful default really gives the LARGEST weight to the LEAST similar user."""
    ratings, _ = small_matrix(2)
    x = dense(ratings)
    d = report_weights(x, "cosine", "distance")
    faithful = predict_all(ReportUserCF().fit(ratings), ratings)
    intended = predict_all(ReportUserCF(weights="similarity").fit(ratings), ratings)
    np.testing.assert_allclose(faithful, report_predict(x, d, "user"), atol=1e-9)
    assert not np.allclose(faithful, intended)


def test_report_svd_equals_the_reports_svds_reconstruction() -> None:
    ratings, _ = small_matrix(3)
    x = dense(ratings)
    u, s, vt = svds(x, k=6)
    x_pred = np.dot(np.dot(u, np.diag(s)), vt)
    model = ReportSVD(n_factors=6, random_state=0).fit(ratings)
    np.testing.assert_allclose(predict_all(model, ratings), x_pred, atol=1e-8)
    with pytest.raises(ValueError, match="n_factors"):
        ReportSVD(n_factors=N_ITEMS).fit(ratings)
