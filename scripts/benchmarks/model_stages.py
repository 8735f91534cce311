"""The model and peer stages: ours, Surprise's, implicit's and the report's dense approach, each
fitted and judged on the published warehouse's own split (``evaluation_splits``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from models_py.recommenders.data import Ratings
from scripts.benchmarks.stage_io import Phases, faithful_limit, scoring_data, tuned_params

TOP_K = 10
# Peers that build a dense items x items matrix are not started beyond this (they would swap the
# shared machine or be killed); the result says so with the size they would need.
DENSE_LIMIT_BYTES = 16 * 2**30


def map_at_k(rec_ids: np.ndarray, test: Ratings, k: int = TOP_K) -> tuple[float, int]:
    """MAP@k of top-k lists (users x k item codes, -1 padding; row u = user u) against the
    held-out items of each user, AP normalised by min(k, |relevant|) as in macros/metrics.sql.
    Users with no held-out item are left out; returns (MAP, users evaluated)."""
    from models_py.recommenders.tuning import average_precision_at_k

    n_users = rec_ids.shape[0]
    n_rel = np.bincount(test.user, minlength=n_users)
    keys = np.sort(test.user.astype(np.int64) * test.n_items + test.item)
    ap = average_precision_at_k(rec_ids[:, :k], np.arange(n_users), keys, test.n_items, n_rel)
    evaluated = n_rel > 0
    return (float(ap[evaluated].mean()) if evaluated.any() else 0.0), int(evaluated.sum())


def rmse(truth: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(truth) - np.asarray(pred)) ** 2)))


def stage_model(size_dir: Path, method: str) -> dict[str, Any]:
    """Fit one of scoring.MODELS on the training split with the run's tuned parameters, then
    recommend top-10 for every influencer and evaluate (test RMSE, MAP@10 on held-out reels)."""
    from threadpoolctl import threadpool_limits

    from models_py.scoring.fitting import fit_model
    from models_py.scoring.registry import MODELS, within_size_limits

    spec = {s.method: s for s in MODELS}[method]
    data = scoring_data(size_dir)
    limit = faithful_limit(size_dir)
    if not within_size_limits([spec], len(data.train), limit)[0]:
        return {
            "skipped": f"{len(data.train):,} training ratings, over faithful_max_ratings "
            f"({limit:,}): the run does not fit the report's own methods at this size"
        }
    params, fit_with_tuning = tuned_params(size_dir, method)
    ph = Phases()
    users = np.arange(data.train.n_users)
    with threadpool_limits(limits=1):  # as in the run: one BLAS thread per model
        if not params and (spec.grid or spec.rank_grid):
            # The run did not get to score (e.g. a bench of these stages alone): tune as the
            # run would, untimed, so the timed fit is of the model the run would ship.
            with ph.phase("tune"):
                params = fit_model(spec, data, data.train)[1]
        with ph.phase("fit"):
            model = spec.make(data).set_params(**params).fit(data.train)
        with ph.phase("recommend"):
            ids, _ = model.recommend(users, TOP_K, exclude_used=True)
        with ph.phase("evaluate"):
            pred = model.predict(data.test.user, data.test.item)
            score, evaluated = map_at_k(ids, data.test)
    return ph.out | {
        "tuned": bool(params),
        # A model that only ranks (EASE, ALS) predicts no Delta: no RMSE, as in the run.
        "rmse": rmse(data.test.rating, pred) if model.predicts_ratings else None,
        "map10": score,
        "users_evaluated": evaluated,
        "fit_with_tuning_s": fit_with_tuning,
        "n_train": len(data.train),
        "n_users": data.train.n_users,
        "n_items": data.train.n_items,
    }


def _surprise_sets(data: Any) -> tuple[Any, list[tuple[int, int, float]]]:
    import pandas as pd
    from surprise import Dataset, Reader

    train = data.train
    frame = pd.DataFrame({"user": train.user, "item": train.item, "rating": train.rating})
    reader = Reader(rating_scale=(float(train.rating.min()), float(train.rating.max())))
    trainset = Dataset.load_from_df(frame, reader).build_full_trainset()
    test = data.test
    testset = list(zip(test.user.tolist(), test.item.tolist(), test.rating.tolist(), strict=True))
    return trainset, testset


def stage_surprise(size_dir: Path, which: str) -> dict[str, Any]:
    """scikit-surprise with its defaults; KNNs item-based (songs), like our item models."""
    data = scoring_data(size_dir)
    n_items = data.train.n_items
    if which != "svd" and n_items * n_items * 8 * 2 > DENSE_LIMIT_BYTES:
        need = n_items * n_items * 8 * 2 / 2**30
        return {"skipped": f"items x items similarity and support matrices need {need:.0f} GB"}
    import surprise

    algo = {
        "svd": lambda: surprise.SVD(random_state=0),
        "knnwithmeans": lambda: surprise.KNNWithMeans(
            sim_options={"name": "cosine", "user_based": False}, verbose=False
        ),
        "knnbaseline": lambda: surprise.KNNBaseline(
            sim_options={"name": "pearson_baseline", "user_based": False},
            verbose=False,
        ),
    }[which]()
    ph = Phases()
    with ph.phase("prepare"):
        trainset, testset = _surprise_sets(data)
    with ph.phase("fit"):
        algo.fit(trainset)
    with ph.phase("evaluate"):
        predictions = algo.test(testset)
    est = np.array([p.est for p in predictions])
    return ph.out | {"rmse": rmse(data.test.rating, est), "n_train": len(data.train)}


def stage_implicit(size_dir: Path, which: str) -> dict[str, Any]:
    """implicit on the training reels as "used" (1.0): fit, top-10 for every influencer with
    the used songs filtered, MAP@10 against the held-out reels. One thread, like our models."""
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    data = scoring_data(size_dir)
    train = data.train
    user_items = sp.csr_matrix(
        (np.ones(len(train), dtype=np.float32), (train.user, train.item)),
        shape=(train.n_users, train.n_items),
    )
    if which == "cosine":
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=20, num_threads=1)
    else:
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=64, iterations=15, num_threads=1, random_state=0, calculate_training_loss=False
        )
    ph = Phases()
    users = np.arange(train.n_users)
    with threadpool_limits(limits=1):
        with ph.phase("fit"):
            model.fit(user_items, show_progress=False)
        with ph.phase("recommend"):
            ids, _ = model.recommend(users, user_items, N=TOP_K, filter_already_liked_items=True)
        with ph.phase("evaluate"):
            ids = np.asarray(ids)
            score, evaluated = map_at_k(ids, data.test)
    return ph.out | {"map10": score, "users_evaluated": evaluated, "n_train": len(train)}


def stage_report_dense(size_dir: Path) -> dict[str, Any]:
    """The report's approach as written (recommenders.report_dense), or why it cannot run."""
    import pandas as pd

    from scripts.benchmarks.report_dense import peak_bytes, run_report_approach

    data = scoring_data(size_dir)
    need = peak_bytes(data.train.n_users, data.train.n_items)
    if need > DENSE_LIMIT_BYTES:
        return {"skipped": f"dense matrices need at least {need / 2**30:.0f} GB", "need_gb": need}

    def frame(r: Ratings) -> pd.DataFrame:
        return pd.DataFrame({"user": r.user, "item": r.item, "rating": r.rating})

    times: dict[str, float] = {}
    scores = run_report_approach(
        frame(data.train), frame(data.test), data.train.n_users, data.train.n_items, timer=times
    )
    return {f"{k}_s": v for k, v in times.items()} | scores | {"need_gb": need / 2**30}
