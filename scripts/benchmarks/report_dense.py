"""The internship report's code as written: dense pandas pivot, full similarity matrices, dense SVD.

Kept as the yardstick the sparse re-implementations (report_cf, report_svd, item_knn) are
checked against in the tests and timed against in the benchmark. Everything here is dense on
purpose: users x songs pivots, users x users and songs x songs distance matrices, and the full
prediction matrices, exactly as the report's notebooks build them (sections 4.2-4.4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import svds
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

BYTES = 8  # float64 cells


def report_predict(ratings: np.ndarray, similarity: np.ndarray, type: str = "user") -> np.ndarray:
    """Section 4.2, In [35], verbatim (``type`` shadows the builtin as in the report)."""
    if type == "user":
        mean_user_rating = ratings.mean(axis=1)
        ratings_diff = ratings - mean_user_rating[:, np.newaxis]
        pred = (
            mean_user_rating[:, np.newaxis]
            + similarity.dot(ratings_diff) / np.array([np.abs(similarity).sum(axis=1)]).T
        )
    elif type == "item":
        pred = ratings.dot(similarity) / np.array([np.abs(similarity).sum(axis=1)])
    return pred


def report_weights(x: np.ndarray, similarity: str, weights: str) -> np.ndarray:
    """The report's "similarity" matrices: ``pairwise_distances`` of the rows of ``x``."""
    metric = {"cosine": "cosine", "pearson": "correlation"}[similarity]
    # scipy's correlation is NaN for a constant row; the sparse model treats it as distance 1.
    d = np.nan_to_num(pairwise_distances(x, metric=metric), nan=1.0)
    return d if weights == "distance" else 1.0 - d


def pivots(
    train: pd.DataFrame, test: pd.DataFrame, n_users: int, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """The report's dense train and test matrices (users x songs, 0 = not used), via pandas."""
    shape_index = pd.RangeIndex(n_users, name="user")
    shape_columns = pd.RangeIndex(n_items, name="item")

    def pivot(frame: pd.DataFrame) -> np.ndarray:
        table = frame.pivot_table(index="user", columns="item", values="rating", fill_value=0)
        return table.reindex(index=shape_index, columns=shape_columns, fill_value=0).to_numpy(
            np.float64
        )

    return pivot(train), pivot(test)


def rmse_on_nonzero(prediction: np.ndarray, truth: np.ndarray) -> float:
    """The report's ``rmse``: only the test matrix's nonzero cells."""
    mask = truth.nonzero()
    return float(np.sqrt(np.mean((prediction[mask] - truth[mask]) ** 2)))


def recommend_dense(prediction: np.ndarray, used: np.ndarray, n: int) -> np.ndarray:
    """The report's recommendation: predicted ratings in decreasing order, used songs skipped."""
    scores = np.where(used != 0, -np.inf, prediction)
    return np.argsort(-scores, axis=1, kind="stable")[:, :n]


def peak_bytes(n_users: int, n_items: int) -> int:
    """Lower bound of what the dense approach holds at once while predicting user CF: train and
    test pivots, the users x users distances, the centred copy, the product and the prediction."""
    cells = n_users * n_items
    return BYTES * (4 * cells + n_users * n_users)


def run_report_approach(
    train: pd.DataFrame,
    test: pd.DataFrame,
    n_users: int,
    n_items: int,
    n: int = 10,
    svd_factors: int = 100,
    timer: dict[str, float] | None = None,
) -> dict[str, float]:
    """Every model of the report, dense, end to end: RMSE of user CF, item CF and SVD on the test
    matrix, the song KNN fitted for all songs, and top-n lists for every user from each."""
    import time

    times = timer if timer is not None else {}
    start = time.perf_counter()
    x, truth = pivots(train, test, n_users, n_items)
    times["pivot"] = time.perf_counter() - start
    out: dict[str, float] = {}
    t = time.perf_counter()
    user_similarity = report_weights(x, "cosine", "distance")
    user_prediction = report_predict(x, user_similarity, "user")
    del user_similarity
    out["rmse_user_cf"] = rmse_on_nonzero(user_prediction, truth)
    recommend_dense(user_prediction, x, n)
    del user_prediction
    times["user_cf"] = time.perf_counter() - t
    t = time.perf_counter()
    item_similarity = report_weights(x.T, "cosine", "distance")
    item_prediction = report_predict(x, item_similarity, "item")
    del item_similarity
    out["rmse_item_cf"] = rmse_on_nonzero(item_prediction, truth)
    recommend_dense(item_prediction, x, n)
    del item_prediction
    times["item_cf"] = time.perf_counter() - t
    t = time.perf_counter()
    u, s, vt = svds(x, k=svd_factors)
    x_pred = np.dot(np.dot(u, np.diag(s)), vt)
    out["rmse_svd"] = rmse_on_nonzero(x_pred, truth)
    recommend_dense(x_pred, x, n)
    del x_pred
    times["svd"] = time.perf_counter() - t
    t = time.perf_counter()
    # Section 4.3: the songs x influencers pivot, brute-force cosine, 5 neighbours per song.
    model_knn = NearestNeighbors(metric="cosine", algorithm="brute").fit(csr_matrix(x.T))
    model_knn.kneighbors(csr_matrix(x.T), n_neighbors=6)
    times["item_knn"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    return out
