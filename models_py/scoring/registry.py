"""The models the scoring stage fits: what each is called, how it is built, what it is for."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models_py.contract import project_var
from models_py.recommenders.als import ImplicitALS
from models_py.recommenders.artist_topics import ArtistTopics
from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.baselines import BiasBaseline, GlobalMean
from models_py.recommenders.content import ContentRecommender
from models_py.recommenders.covariate_adjusted import CovariateAdjusted
from models_py.recommenders.ease import EASE
from models_py.recommenders.hybrid import HybridRecommender
from models_py.recommenders.item_knn import ItemKNN
from models_py.recommenders.knn_baseline import KNNBaseline
from models_py.recommenders.matrix_factorization import BiasedMF
from models_py.recommenders.report_cf import ReportItemCF, ReportUserCF
from models_py.recommenders.report_svd import ReportSVD
from models_py.recommenders.tuning import RANKING_TIME_CAP
from models_py.recommenders.two_stage import TwoStageRanker
from models_py.scoring.data import MIN_TRAINING_RATINGS, ScoringData
from models_py.synth.oracle import PlantedModel

LIFT_THRESHOLD: float = project_var("lift_threshold")  # relevance "lifted": Delta above it


@dataclass(frozen=True)
class ModelSpec:
    """A model as the warehouse knows it: its method name, how to build it, what it is for."""

    method: str
    family: str  # baseline | faithful | model | oracle
    make: Callable[[ScoringData], RatingRecommender]
    serve: bool = False  # refit on all reels, parts kept; may be the default (listed for all)
    grid: dict[str, list] | None = None  # tuned on a validation cut of the training split
    # The parameter of the model `grid` tunes alone (e.g. the hybrid's usage model), by its own
    # validation RMSE; None: the whole model.
    grid_on: str | None = None
    # Tuned by validation MAP@10 (lifted) instead of RMSE: parameters that only reorder lists.
    rank_grid: dict[str, list] | None = None
    cold_song: bool = False  # also judged on songs it never saw used (scenario cold_song)
    # Rough seconds to fit and score on the default data. Only orders the work, longest
    # first (scoring.schedule), so the two workers finish together; what is written does not
    # depend on it.
    cost: float = 1.0
    # Scores built on other models' scores (selection.choose_default serves it only when it
    # beats them by more than the validation noise).
    stacked: bool = False
    # The inputs it learns from (INPUTS); a model whose input the data lacks is not fitted.
    needs: frozenset[str] = frozenset({"delta"})
    # Why the data is too small for it, or None: a fixed shape it cannot fit below.
    too_small: Callable[[ScoringData], str | None] | None = None
    # Seconds rank_grid's search may spend: points in grid order while the next would end
    # within it (tuning.tune_ranking).
    rank_time_cap: float = RANKING_TIME_CAP
    # Specs naming the same job run in one worker, one after the other, so a fit they share
    # (artist_topics' topics, the two-stage ranker's candidates) is made once (kl_topics).
    job: str | None = None


# What a model may need, and what the run says when the data lacks it.
INPUTS = {
    "delta": "no Delta",
    "er": "no ER",
    "metadata": "no song metadata",
    "artist": "no artist names",
}
USAGE_ONLY: frozenset[str] = frozenset()  # learns from which songs were used alone


def er_biased_mf(data: ScoringData) -> RatingRecommender:
    """Biased MF on what the influencer's usual ER does not explain (covariate_adjusted)."""
    return CovariateAdjusted(
        BiasedMF(random_state=0, reg_item_bias=15.0), user_covariate=data.user_er
    )


def usage_candidates(data: ScoringData) -> RatingRecommender:
    """The usage ranker whose shortlist the two-stage ranker re-ranks: artist_topics when the
    songs have artists (the best usage ranker on the default data), else EASE at the λ its
    own tuning picks there (tuning them again inside the two-stage would repeat their
    searches)."""
    if "artist" in missing_inputs(data):
        return EASE(reg=500.0, max_songs=EASE_SONGS)
    return ArtistTopics(song_artists=data.song_artists, n_topics=12)


# Rank grids are tried in order until the spec's rank_time_cap: the likeliest (the winners
# on the default data with taste planted in usage) first. Item KNN's validation MAP levels off
# from K = 200 (200 / 400 / 800: 0.0040 / 0.0040 / 0.0040 cosine, 0.0058 / 0.0059 / 0.0059 BM25).
KNN_RANK_GRID = {"n_neighbors": [200, 100, 400, 50]}
# EASE's songs: the inverse of 3,000 takes ~1 s on one thread, 5,000 ~4 s, 10,000 ~50 s
# (ease.py), and an EASE fit inverts once per grid point. Past the 3,000 most used songs the
# default data's validation MAP gains ~1.5 %, for 4-5x the time; the ceiling is
# ease.MAX_SONGS_CEILING.
EASE_SONGS = 3_000

ER_BIASED_MF_GRID = {"estimator__reg": [10.0, 40.0], "estimator__reg_user_bias": [5.0, 15.0]}

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("global_mean", "baseline", lambda data: GlobalMean()),
    ModelSpec("bias_baseline", "baseline", lambda data: BiasBaseline(), cost=0.2),
    # Biases on what the influencer's usual ER does not explain (see covariate_adjusted).
    ModelSpec(
        "er_bias_baseline",
        "model",
        lambda data: CovariateAdjusted(BiasBaseline(), user_covariate=data.user_er),
        serve=True,
        grid={"estimator__reg_user": [5.0, 15.0, 30.0], "estimator__reg_item": [5.0, 15.0, 30.0]},
        cost=0.6,
        needs=frozenset({"delta", "er"}),
    ),
    ModelSpec(
        "report_user_cf", "faithful", lambda data: ReportUserCF(similarity="cosine"), cost=2.7
    ),
    ModelSpec(
        "report_item_cf", "faithful", lambda data: ReportItemCF(similarity="cosine"), cost=3.3
    ),
    ModelSpec(
        "report_svd",
        "faithful",
        lambda data: ReportSVD(random_state=0),
        cost=3.9,
        too_small=lambda data: svd_too_small(data, ReportSVD().n_factors),
    ),
    # Cosine of who used the songs (weighted by Delta when there is one).
    ModelSpec(
        "item_knn",
        "model",
        lambda data: ItemKNN(n_neighbors=20),
        serve=True,
        rank_grid=KNN_RANK_GRID,
        cost=2.2,
        needs=USAGE_ONLY,
    ),
    # The cosine of usage weighted by BM25 (implicit's BM25Recommender weighting).
    ModelSpec(
        "item_knn_bm25",
        "model",
        lambda data: ItemKNN(n_neighbors=20, weighting="bm25"),
        serve=True,
        rank_grid=KNN_RANK_GRID,
        cost=2.2,
        needs=USAGE_ONLY,
    ),
    # Closed form over the EASE_SONGS most used songs; the rest after them by popularity.
    # Costs of ease and als: their run seconds on the default data (tuning included) over
    # item_knn's, times item_knn's cost (42, 46 and 6.5 s in a run at load ~8 on 2 cores).
    ModelSpec(
        "ease",
        "model",
        lambda data: EASE(reg=500.0, max_songs=EASE_SONGS),
        serve=True,
        rank_grid={"reg": [500.0, 2000.0, 100.0]},
        cost=14.0,
        needs=USAGE_ONLY,
    ),
    # Hu-Koren-Volinsky implicit ALS (the implicit package, one thread). Judged, not served:
    # EASE and artist_topics beat it on every set measured, and its exact lists cost
    # influencers x songs x factors (hours at 10M rows).
    ModelSpec(
        "als",
        "model",
        lambda data: ImplicitALS(random_state=0),
        # reg barely moved validation MAP (0.1 won), nor did 64 factors ever beat 32 (100k:
        # 0.017 vs 0.026); the two points left keep the default-data run inside its minute.
        rank_grid={"n_factors": [32], "reg": [0.1], "alpha": [40.0, 10.0]},
        cost=10.0,
        needs=USAGE_ONLY,
    ),
    # Surprise's or Koren's shrinkage, and Koren's rule (n_stored = n_neighbors) or wide
    # candidate lists (~Surprise's): sparse reel data picks the first pair, denser star ratings
    # the second (see knn_baseline).
    ModelSpec(
        "knn_baseline",
        "model",
        lambda data: KNNBaseline(),
        serve=True,
        grid={
            "similarity": ["pearson_baseline", "koren"],
            "shrinkage": [25.0, 100.0],
            "n_stored": [40, 400],
        },
        cost=6.5,
    ),
    ModelSpec(
        "biased_mf",
        "model",
        lambda data: BiasedMF(random_state=0),
        serve=True,
        grid={"n_factors": [2, 8], "reg": [10.0, 40.0]},
        cost=1.4,
    ),
    ModelSpec(
        "er_biased_mf",
        "model",
        er_biased_mf,
        serve=True,
        grid=ER_BIASED_MF_GRID,
        cost=1.8,
        needs=frozenset({"delta", "er"}),
    ),
    # Metadata only: ranks songs nobody has used like any other.
    ModelSpec(
        "content",
        "model",
        lambda data: ContentRecommender(song_features=data.song_features),
        serve=True,
        rank_grid={"appeal_weight": [0.0, 0.5, 1.0, 2.0]},
        cold_song=True,
        cost=7.9,
        # Without Delta every used song weighs the same in the influencer's profile.
        needs=frozenset({"metadata"}),
    ),
    ModelSpec(
        "hybrid",
        "model",
        lambda data: HybridRecommender(
            usage=er_biased_mf(data),
            content=ContentRecommender(song_features=data.song_features),
        ),
        serve=True,
        # Its usage model tuned as er_biased_mf is (same grid, same validation cut), so the
        # hybrid's predicted Delta is er_biased_mf's on any data.
        grid=ER_BIASED_MF_GRID,
        grid_on="usage",
        rank_grid={"weight": [0.0, 0.25, 0.5, 0.75, 1.0]},
        # Not refitted for cold_song: its usage part scores every unseen song alike, so on
        # new songs it orders them exactly as content does (any weight > 0).
        cost=7.0,  # its own tuning of the usage model included
        stacked=True,
        # Without ER its usage part has no ER term (CovariateAdjusted of a constant).
        needs=frozenset({"delta", "metadata"}),
    ),
    # Topics of which artists influencers use (usage only, with the songs' artists): places an
    # influencer with a few tail songs by their artists, where co-usage of songs cannot.
    ModelSpec(
        "artist_topics",
        "model",
        lambda data: ArtistTopics(song_artists=data.song_artists),
        serve=True,
        # 12 first: the default data's pick, so the ranking search's time cap keeps it.
        rank_grid={"n_topics": [12, 8, 20]},
        cost=6.0,  # 18 s in a run (grid, test lists, serving) against item_knn's 6.5 s
        job="artist_topics",
        needs=frozenset({"artist"}),
    ),
    # "Which song will lift this influencer's engagement": the usage ranker's shortlist,
    # re-ranked by a blend with er_biased_mf's predicted lift (two_stage.py).
    ModelSpec(
        "two_stage",
        "model",
        lambda data: TwoStageRanker(candidates=usage_candidates(data), lift=er_biased_mf(data)),
        serve=True,
        # The lift model tuned as er_biased_mf is, so its predicted Delta is er_biased_mf's.
        grid=ER_BIASED_MF_GRID,
        grid_on="lift",
        rank_grid={"weight": [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]},
        cost=3.0,
        stacked=True,
        job="artist_topics",  # its candidates: artist_topics' topics when songs have artists
        needs=frozenset({"delta"}),
    ),
)
NEW_INFLUENCER_METHOD = "similar_influencers"  # cold_influencer only; served by the CLI


def stacked_methods() -> set[str]:
    """The methods whose scores are built on other models' (ModelSpec.stacked)."""
    return {spec.method for spec in MODELS if spec.stacked}


NEW_INFLUENCER_COST = 2.0  # seconds on the default data, like ModelSpec.cost


def truth_matches(truth_dir: Path, loaded_files: set[str]) -> bool:
    """The truth describes exactly the files loaded (so it is the generator's for this data)."""
    params = truth_dir / "params.json"
    if not params.exists():
        return False
    planted = {f["file"] for f in json.loads(params.read_text()).get("files", [])}
    return planted == loaded_files


def oracle_specs(truth_dir: Path, data: ScoringData) -> list[ModelSpec]:
    """The planted model itself when the data came from the generator: ranking by P(used and
    lifted) (`oracle`), by P(used) (`oracle_usage`), and its biases alone by predicted Delta
    (`oracle_biases`: the RMSE floor of the bias models; see PlantedModel._used_interaction)."""

    def planted(include_factors: bool, ranking: str) -> Callable[[ScoringData], RatingRecommender]:
        return lambda data: PlantedModel(
            truth_dir=str(truth_dir),
            influencer_ids=data.influencer_ids,
            song_ids=data.song_ids,
            include_factors=include_factors,
            ranking=ranking,
            lift_threshold=LIFT_THRESHOLD,
        )

    return [
        ModelSpec("oracle", "oracle", planted(True, "lifted"), cost=1.4),
        ModelSpec("oracle_usage", "oracle", planted(True, "used"), cost=1.4),
        ModelSpec("oracle_biases", "oracle", planted(False, "delta"), cost=1.2),
    ]


def within_size_limits(
    specs: list[ModelSpec], n_train: int, faithful_max: int
) -> tuple[list[ModelSpec], list[str]]:
    """The specs to fit, and the methods left out: the report's own methods (comparisons,
    never served) past `faithful_max` training ratings, where their co-rating products and
    dense blocks would take longer than every other model together."""
    if n_train <= faithful_max:
        return specs, []
    kept = [spec for spec in specs if spec.family != "faithful"]
    return kept, [spec.method for spec in specs if spec.family == "faithful"]


def svd_too_small(data: ScoringData, k: int) -> str | None:
    """The report's svds(k) needs more than k influencers and songs."""
    if min(len(data.influencer_ids), len(data.song_ids)) > k:
        return None
    return f"svds(k={k}) needs more than {k} influencers and songs"


def missing_inputs(data: ScoringData) -> dict[str, str]:
    """The INPUTS this data lacks, each with the reason the run gives."""
    missing = {}
    if data.implicit:
        rated = data.rated_train_reels or 0
        missing["delta"] = (
            INPUTS["delta"]
            if rated == 0
            else f"only {rated:,} training reels have a Delta (fewer than {MIN_TRAINING_RATINGS})"
        )
    if not np.isfinite(np.asarray(data.user_er, dtype=np.float64)).any():
        missing["er"] = INPUTS["er"]
    if data.song_features is None or data.song_features.nnz == 0:
        missing["metadata"] = INPUTS["metadata"]
    if data.song_artists is None or not (np.asarray(data.song_artists) >= 0).any():
        missing["artist"] = INPUTS["artist"]
    return missing


def not_fitted(
    specs: list[ModelSpec], data: ScoringData, faithful_max: int
) -> tuple[list[ModelSpec], list[tuple[ModelSpec, str]]]:
    """The specs to fit, and the rest with why not: an input the data lacks (their first
    missing need, in INPUTS order), data too small for the model's shape, or the report's own
    methods past `faithful_max` training ratings (within_size_limits)."""
    missing = missing_inputs(data)
    kept, skipped = [], []
    for spec in specs:
        lacking = [missing[need] for need in INPUTS if need in spec.needs and need in missing]
        if spec.too_small is not None and not lacking:
            lacking = [reason for reason in [spec.too_small(data)] if reason]
        if lacking:
            skipped.append((spec, lacking[0]))
        else:
            kept.append(spec)
    sized, too_big = within_size_limits(kept, len(data.train.rating), faithful_max)
    reason = (
        f"{len(data.train.rating):,} training ratings, over faithful_max_ratings "
        f"({faithful_max:,}); --var faithful_max_ratings=N to run it anyway"
    )
    skipped += [(spec, reason) for spec in kept if spec.method in too_big]
    return sized, skipped
