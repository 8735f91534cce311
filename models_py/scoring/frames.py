"""The models' lists, predictions and neighbours as frames of codes, one row per score."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.new_influencer import SimilarInfluencers
from models_py.scoring.data import ScoringData
from models_py.scoring.registry import NEW_INFLUENCER_METHOD, ModelSpec


def recommendation_frame(
    data: ScoringData | None,
    model: RatingRecommender,
    method: str,
    top_n: int,
    also_used: pd.DataFrame,
    candidates: np.ndarray | None = None,
    explain: bool = False,
    users: np.ndarray | None = None,
) -> pd.DataFrame:
    """Top-n unused songs for every influencer (or the codes in `users`), as codes (user,
    item; append_scores turns them into ids), ranks 1..n (padding dropped).

    ``data`` only numbers the influencers when ``users`` is None (on-demand lists give users).
    Left out: the songs the model was fitted on and `also_used` (user, item), used songs the
    model never saw (no rating). `candidates`: a mask of the songs that may be ranked (default
    all). With `explain`, models that can say which used song is behind a pick (`because`)
    fill its code in because (-1: none).
    """
    if users is None:
        users = np.arange(len(data.influencer_ids), dtype=np.int32)
    exclude = used_songs(model, also_used) if len(also_used) else None
    items, scores = model.recommend(users, top_n, candidates=candidates, exclude=exclude)
    keep = items >= 0
    user = np.broadcast_to(users[:, None], items.shape)[keep]
    rank = np.broadcast_to(np.arange(1, top_n + 1), items.shape)[keep]
    item = items[keep]
    because = np.full(user.size, -1)
    if explain and hasattr(model, "because"):
        because = model.because(user, item)
    return pd.DataFrame(
        {
            "method": method,
            "user": user.astype(np.int32),
            "rank": rank.astype(np.int32),
            "item": item.astype(np.int32),
            "score": model.clip_scores(scores[keep]),  # a predicted Delta stays in range
            "because": np.asarray(because, dtype=np.int32),
        }
    )


def used_songs(model: RatingRecommender, also_used: pd.DataFrame) -> sp.csr_matrix:
    """Influencers x songs: the songs of the ratings `model` was fitted on and `also_used`."""
    fitted = model.used_.tocoo()
    row = np.r_[fitted.row, also_used["user"].to_numpy()]
    col = np.r_[fitted.col, also_used["item"].to_numpy()]
    return sp.csr_matrix((np.ones(row.size), (row, col)), shape=fitted.shape)


def prediction_frame(data: ScoringData, model: RatingRecommender, method: str) -> pd.DataFrame:
    test = data.test
    return pd.DataFrame(
        {
            "method": method,
            "user": test.user,
            "item": test.item,
            "prediction": model.predict(test.user, test.item),
        }
    )


def neighbour_frame(
    data: ScoringData, neighbours: np.ndarray, similarities: np.ndarray, method: str
) -> pd.DataFrame:
    n_items, k = neighbours.shape
    keep = neighbours >= 0
    return pd.DataFrame(
        {
            "method": method,
            "item": np.repeat(np.arange(n_items, dtype=np.int32), k).reshape(n_items, k)[keep],
            "neighbour_rank": np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), (n_items, k))[
                keep
            ],
            "neighbour_item": neighbours[keep].astype(np.int32),
            "similarity": similarities[keep],
        }
    )


def cold_song_frame(spec: ModelSpec, data: ScoringData, top_n: int, params: dict) -> pd.DataFrame:
    """The model refitted without the held-out songs' reels ranks only those songs for every
    influencer: the shelf of new releases. It keeps the parameters tuned on the warm
    training split (for the hybrid, any weight > 0 orders new songs as content does: the
    usage model scores every unseen song alike)."""
    cold = data.cold["cold_song"]
    model = spec.make(data).set_params(**params).fit(cold.train)
    # Used songs without a rating are never cold songs (those have no training reel at all).
    no_extra = pd.DataFrame({"user": [], "item": []})
    frame = recommendation_frame(
        data,
        model,
        spec.method,
        top_n,
        no_extra,
        candidates=cold.held_out_items,
        users=data.evaluated_users(),
    )
    return frame.assign(scenario="cold_song")


def cold_influencer_frame(data: ScoringData, top_n: int, run_id: str) -> tuple[pd.DataFrame, dict]:
    """SimilarInfluencers fitted on the other influencers' reels, recommending for each
    held-out influencer from their bio and tier alone (they have no reels)."""
    start = time.perf_counter()
    cold = data.cold["cold_influencer"]
    known = ~cold.held_out_users
    model = SimilarInfluencers().fit(cold.used[known], data.bios[known], data.tiers[known])
    fitted = time.perf_counter()
    judged = cold.held_out_users if data.evaluated is None else cold.held_out_users & data.evaluated
    users = np.flatnonzero(judged)
    items, scores, _ = model.recommend(data.bios[users], data.tiers[users], top_n)
    keep = items >= 0
    ranks = np.broadcast_to(np.arange(1, top_n + 1, dtype=np.int32), items.shape)
    owners = np.broadcast_to(users[:, None], items.shape)
    frame = pd.DataFrame(
        {
            "method": NEW_INFLUENCER_METHOD,
            "scenario": "cold_influencer",
            "user": owners[keep].astype(np.int32),
            "rank": ranks[keep],
            "item": items[keep].astype(np.int32),
            "score": scores[keep],
            "because": np.int32(-1),
        }
    )
    run = {
        "run_id": run_id,
        "method": NEW_INFLUENCER_METHOD,
        "family": "model",
        "params": json.dumps(
            {**model.get_params(), "prior_strength": model.prior_strength_}, sort_keys=True
        ),
        "data_fingerprint": run_id,
        "n_train": int(cold.used[known].nnz),
        "n_test": int(users.size),
        "fit_seconds": fitted - start,
        "score_seconds": time.perf_counter() - fitted,
        "serve_seconds": 0.0,
        "trained_on": "usage",
        "is_default": False,  # never a candidate, and maybe written after the choice
    }
    return frame, run
