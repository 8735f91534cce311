"""Score every recommender against the generator's planted truth.

    python -m models_py.recommenders.benchmark [--seed 42] [--tune]

Generates the default-size dataset (parquet: same truth as xlsx, 10x faster to write), takes the
clean truth rows with a Delta as ratings, splits them 75/25 at random, fits each model on the
75%, and reports test RMSE/MAE next to the oracle (the planted noise-free Delta) plus the time
to fit, predict the test pairs and recommend a top-10 to every user. ``--tune`` first re-runs the
grid searches on the training part (validation = 10% of it) and uses the winners. Evaluation
code only: models never see ``truth/`` beyond the ratings handed to ``fit``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.baselines import BiasBaseline, GlobalMean
from models_py.recommenders.data import Ratings
from models_py.recommenders.item_knn import ItemKNN
from models_py.recommenders.knn_baseline import KNNBaseline
from models_py.recommenders.matrix_factorization import BiasedMF
from models_py.recommenders.report_cf import ReportItemCF, ReportUserCF
from models_py.recommenders.report_svd import ReportSVD
from models_py.recommenders.tuning import evaluate, tune

GRIDS: dict[str, dict[str, list[Any]]] = {
    "BiasBaseline": {"reg_user": [0.25, 0.5, 1.0], "reg_item": [5.0, 10.0, 15.0, 25.0]},
    "BiasedMF": {"n_factors": [2, 8], "reg": [5.0, 10.0, 20.0, 40.0]},
    "KNNBaseline": {"n_neighbors": [10, 40], "min_support": [1, 3, 6]},
    "ItemKNN": {"n_neighbors": [5, 10, 20, 40]},
}


def models() -> dict[str, RatingRecommender]:
    return {
        "GlobalMean": GlobalMean(),
        "BiasBaseline": BiasBaseline(),
        "BiasedMF": BiasedMF(),
        "KNNBaseline": KNNBaseline(),
        "ItemKNN": ItemKNN(),
        "ReportSVD": ReportSVD(),
        "ReportUserCF": ReportUserCF(),
        "ReportItemCF": ReportItemCF(),
    }


def planted_ratings(seed: int, out: Path) -> tuple[Ratings, np.ndarray]:
    """Clean rows (no expected rejection, Delta present) as Ratings, and their oracle Delta."""
    from models_py.generate_data import generate

    generate(out, seed=seed, fmt="parquet")
    rows = pd.read_parquet(out / "truth" / "rows.parquet")
    rows = rows[rows["expected_rule"].isna() & rows["delta"].notna()]
    user, users = pd.factorize(rows["influencer_id"])
    item, items = pd.factorize(rows["song_id"])
    ratings = Ratings(user, item, rows["delta"].to_numpy(float), len(users), len(items))
    return ratings, rows["delta_expected"].to_numpy(float)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(seed: int = 42, do_tune: bool = False, n: int = 10) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        ratings, oracle = planted_ratings(seed, Path(tmp))
    perm = np.random.default_rng(seed).permutation(len(ratings))
    test_idx = np.sort(perm[: round(0.25 * len(ratings))])  # what Ratings.split(0.25, seed) takes
    train, test = ratings.split(0.25, seed)
    rows = [
        {
            "model": "oracle (planted)",
            "rmse": root_mean_squared_error(test.rating, oracle[test_idx]),
            "mae": mean_absolute_error(test.rating, oracle[test_idx]),
        }
    ]
    users = np.arange(train.n_users)
    for name, model in models().items():
        params: dict[str, Any] = {}
        if do_tune and name in GRIDS:
            params, _ = tune(model, GRIDS[name], train, validation_fraction=0.1, seed=seed)
            model.set_params(**params)
        _, t_fit = timed(lambda m=model: m.fit(train))
        scores, t_pred = timed(lambda m=model: evaluate(m, test))
        _, t_rec = timed(lambda m=model: m.recommend(users, n))
        rows.append(
            {"model": name, **scores, "fit_s": t_fit, "predict_s": t_pred, "recommend_s": t_rec}
            | ({"tuned": params} if params else {})
        )
    table = pd.DataFrame(rows)
    table["vs_oracle"] = table["rmse"] / table["rmse"].iloc[0] - 1.0
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tune", action="store_true", help="grid-search on train first")
    args = parser.parse_args(argv)
    table = run(args.seed, args.tune)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    timing = table[["fit_s", "predict_s", "recommend_s"]].sum().sum()
    print(f"\ntotal fit + predict + recommend: {timing:.1f} s")


if __name__ == "__main__":
    main()
