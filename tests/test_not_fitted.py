"""Which models the scoring stage leaves out for the data it has, and the reason it records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models_py.recommenders.data import Ratings
from models_py.scoring.data import MIN_TRAINING_RATINGS, ScoringData
from models_py.scoring.registry import MODELS, not_fitted

N_USERS, N_ITEMS = 120, 110  # past svds(k=100)'s minimum


def data(
    implicit: bool = False, rated: int | None = None, er: bool = True, metadata: bool = True
) -> ScoringData:
    rng = np.random.default_rng(0)
    u, i = np.nonzero(rng.random((N_USERS, N_ITEMS)) < 0.05)
    ratings = Ratings(u.astype(np.int32), i.astype(np.int32), np.ones(u.size), N_USERS, N_ITEMS)
    features = sp.identity(N_ITEMS, format="csr") if metadata else sp.csr_matrix((N_ITEMS, 0))
    return ScoringData(
        np.arange(N_USERS).astype(str),
        np.arange(N_ITEMS).astype(str),
        ratings,
        ratings,
        ratings,
        rng.normal(size=N_USERS) if er else np.full(N_USERS, np.nan),
        pd.DataFrame({"user": [], "item": [], "split": []}),
        features,
        implicit=implicit,
        rated_train_reels=rated,
        song_artists=np.arange(N_ITEMS) % 7 if metadata else None,
    )


def reasons(scoring: ScoringData, faithful_max: int = 10**9) -> dict[str, str]:
    kept, skipped = not_fitted(list(MODELS), scoring, faithful_max)
    assert {s.method for s in kept} | {s.method for s, _ in skipped} == {s.method for s in MODELS}
    return {spec.method: why for spec, why in skipped}


def test_everything_is_fitted_when_the_data_has_every_input() -> None:
    assert reasons(data()) == {}


def test_no_delta_leaves_out_every_model_but_the_usage_based_ones() -> None:
    got = reasons(data(implicit=True, rated=0))
    assert set(got.values()) == {"no Delta"}
    usage_only = {"item_knn", "item_knn_bm25", "ease", "als", "content", "artist_topics"}
    assert {s.method for s in MODELS} - set(got) == usage_only


def test_a_few_deltas_are_not_enough_and_the_reason_says_how_many() -> None:
    got = reasons(data(implicit=True, rated=40))
    assert (
        got["biased_mf"]
        == f"only 40 training reels have a Delta (fewer than {MIN_TRAINING_RATINGS})"
    )


def test_no_er_and_no_metadata() -> None:
    got = reasons(data(er=False, metadata=False))
    assert got == {
        "er_bias_baseline": "no ER",
        "er_biased_mf": "no ER",
        "content": "no song metadata",
        "hybrid": "no song metadata",
        "artist_topics": "no artist names",
    }


def test_blank_artists_leave_out_only_the_artist_model() -> None:
    scoring = data()
    blank = ScoringData(
        scoring.influencer_ids, scoring.song_ids, scoring.train, scoring.test,
        scoring.everything, scoring.user_er, scoring.unrated, scoring.song_features,
        song_artists=np.full(N_ITEMS, -1),
    )  # fmt: skip
    assert reasons(blank) == {"artist_topics": "no artist names"}


def test_size_limits() -> None:
    faithful = {s.method for s in MODELS if s.family == "faithful"}
    got = reasons(data(), faithful_max=10)
    assert set(got) == faithful and all("over faithful_max_ratings (10)" in r for r in got.values())
    small = data()
    small = ScoringData(
        small.influencer_ids[:50], small.song_ids, small.train, small.test, small.everything,
        small.user_er, small.unrated, small.song_features, song_artists=small.song_artists,
    )  # fmt: skip
    assert reasons(small) == {"report_svd": "svds(k=100) needs more than 100 influencers and songs"}


def test_the_servable_method_names_are_the_served_specs() -> None:
    """serve_methods is checked against methods.SERVABLE_METHODS before anything imports the
    models: it must name exactly the specs with serve=True."""
    from models_py.dbt_vars import SERVABLE_METHODS
    from models_py.scoring.registry import MODELS

    assert sorted(SERVABLE_METHODS) == sorted(s.method for s in MODELS if s.serve)
