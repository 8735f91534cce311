"""Tuning at scale: the RMSE search that several specs share (er_biased_mf's grid, in the
hybrid's usage part and the two-stage's lift part) is made once per process."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_py.recommenders import Ratings, tuning
from models_py.scoring.data import ScoringData
from models_py.scoring.fitting import tune_grid, tune_shared_grids
from models_py.scoring.registry import MODELS


def small_data() -> ScoringData:
    rng = np.random.default_rng(11)
    cells = np.unique(rng.integers(0, 150 * 60, 2_500))
    train = Ratings(cells // 60, cells % 60, rng.normal(0.5, 2, cells.size), 150, 60)
    return ScoringData(
        influencer_ids=np.arange(150).astype(str),
        song_ids=np.arange(60).astype(str),
        train=train,
        test=train,
        everything=train,
        user_er=rng.uniform(1, 5, 150),
        unrated=pd.DataFrame({"user": [], "item": [], "split": []}),
    )


def test_er_biased_mfs_search_is_made_once_for_the_three_specs_that_need_it() -> None:
    data = small_data()
    specs = {spec.method: spec for spec in MODELS}
    assert tune_shared_grids(list(MODELS), data, data.train) == 1
    searches = len(tuning._TUNED)
    chosen = [
        tune_grid(specs[m], specs[m].make(data), data.train)
        for m in ("er_biased_mf", "hybrid", "two_stage")
    ]
    assert len(tuning._TUNED) == searches  # no new search: all three reuse the one made
    assert chosen[0] == chosen[1] == chosen[2] and set(chosen[0]) == set(specs["hybrid"].grid)
    # A grid of its own (biased_mf) is searched when its spec fits, not beforehand.
    tune_grid(specs["biased_mf"], specs["biased_mf"].make(data), data.train)
    assert len(tuning._TUNED) == searches + 1
