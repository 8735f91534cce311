"""A fitted model's parts: the learned state it ranks from, as tables analysts can join, and
the model rebuilt from them for a few influencers (on-demand lists, scoring/on_demand.py).

Each servable class names its parts in ``PARTS`` (attribute -> kind) and its fitted sub-models
in ``PART_MODELS``; what it derives from them (rank indexes, caches) it recomputes in
``_derive_parts``, by the code its fit uses, so the rebuilt model ranks with the same floats.

Kinds: ``influencer`` (first axis the influencer code), ``song`` (first axis the song code),
``song_pairs`` (sparse songs x songs; a rebuild may hold only the rows of the influencers'
used songs, so a class stores there only what it reads by used song), ``song_rows`` (dense
rows of some songs, ``SongRows``; read back, as pairs are, for the used songs only: EASE's
weights, whose 9M pairs cost more to write as pairs than as 3,000 rows), ``song_features``
(sparse songs x features, every song's row: content's metadata features), ``arrays`` (any
other axis: topics, artists) and ``settings`` (JSON scalars).

A rebuilt model holds only the influencers it is rebuilt for, so ``fit_users_`` keeps the
number of the full fit: what decides how a model ranks at catalogue scale (shortlist_rank).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender

KINDS = ("influencer", "song", "song_pairs", "song_rows", "song_features", "arrays", "settings")
NO_PARTS = "no_parts"  # setting of a model kept without parts: why its lists cannot be rebuilt
SEPARATOR = "__"  # a sub-model's parts are named <its attribute without _>__<part>


class SongRows(NamedTuple):
    """Row r of ``rows`` belongs to the song coded ``songs[r]``."""

    songs: np.ndarray
    rows: np.ndarray


@dataclass
class Parts:
    """The parts of one fitted model, sub-models' included under their prefix."""

    influencer: dict[str, np.ndarray] = field(default_factory=dict)
    song: dict[str, np.ndarray] = field(default_factory=dict)
    song_pairs: dict[str, sp.csr_matrix] = field(default_factory=dict)
    song_rows: dict[str, SongRows] = field(default_factory=dict)
    song_features: dict[str, sp.csr_matrix] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def prefixed(self, prefix: str) -> Parts:
        return Parts(*({prefix + k: v for k, v in getattr(self, kind).items()} for kind in KINDS))

    def merge(self, other: Parts) -> None:
        for kind in KINDS:
            getattr(self, kind).update(getattr(other, kind))

    def unprefixed(self, prefix: str) -> Parts:
        """The parts named ``prefix``..., without it: a sub-model's."""
        n = len(prefix)
        return Parts(
            *(
                {k[n:]: v for k, v in getattr(self, kind).items() if k.startswith(prefix)}
                for kind in KINDS
            )
        )


class NoPartsError(NotImplementedError):
    """The model keeps no parts: its on-demand lists cannot be computed."""


def servable_classes() -> dict[str, type[RatingRecommender]]:
    """The classes whose parts rebuild a model, by name (what the settings record)."""
    from models_py.recommenders.artist_topics import ArtistTopics
    from models_py.recommenders.baselines import BiasBaseline
    from models_py.recommenders.content import ContentRecommender
    from models_py.recommenders.covariate_adjusted import CovariateAdjusted
    from models_py.recommenders.ease import EASE
    from models_py.recommenders.hybrid import HybridRecommender
    from models_py.recommenders.item_knn import ItemKNN
    from models_py.recommenders.knn_baseline import KNNBaseline
    from models_py.recommenders.matrix_factorization import BiasedMF
    from models_py.recommenders.two_stage import TwoStageRanker

    classes = (
        ArtistTopics,
        BiasBaseline,
        BiasedMF,
        ContentRecommender,
        CovariateAdjusted,
        EASE,
        HybridRecommender,
        ItemKNN,
        KNNBaseline,
        TwoStageRanker,
    )
    return {cls.__name__: cls for cls in classes}


def _plain_params(model: RatingRecommender) -> dict[str, Any]:
    """The constructor's scalar parameters (side data and sub-models are not parts)."""
    out = {}
    for name, value in model.get_params(deep=False).items():
        if value is None or isinstance(value, bool | int | float | str):
            out[name] = value
        elif isinstance(value, np.generic):
            out[name] = value.item()
    return out


def to_parts(model: RatingRecommender) -> Parts:
    """The learned state ``rebuild`` needs, sub-models' under their prefix."""
    cls = type(model)
    if cls.__name__ not in servable_classes():
        raise NoPartsError(f"no on-demand lists for {cls.__name__} yet: it keeps no parts")
    parts = Parts()
    parts.settings.update(
        {
            "class": cls.__name__,
            "params": _plain_params(model),
            "n_items": int(model.n_items_),
            "n_users": int(model.fit_users_),
            "global_mean": float(model.global_mean_),
            "rating_range": [float(v) for v in model.rating_range_],
        }
    )
    for attr, kind in cls.PARTS.items():
        value = getattr(model, attr)
        getattr(parts, kind)[attr] = value.item() if isinstance(value, np.generic) else value
    for attr in cls.PART_MODELS:
        parts.merge(to_parts(getattr(model, attr)).prefixed(attr.rstrip("_") + SEPARATOR))
    return parts


def rebuild(parts: Parts, used: sp.csr_matrix) -> RatingRecommender:
    """The fitted model for the influencers whose ``influencer`` parts are given, in that
    order, codes 0..k-1; ``used``: their rows (k x songs) of the ratings it was fitted on."""
    settings = parts.settings
    if NO_PARTS in settings:
        raise NoPartsError(settings[NO_PARTS])
    classes = servable_classes()
    if settings.get("class") not in classes:
        raise NoPartsError(f"no on-demand lists for {settings.get('class')} yet")
    cls = classes[settings["class"]]
    model = cls(**settings["params"])
    used = sp.csr_matrix(used, dtype=np.float64)
    used.sort_indices()
    model.n_users_, model.n_items_ = used.shape[0], int(settings["n_items"])
    # Parts written before the setting existed: the rebuilt rows, as then.
    model.fit_users_ = int(settings.get("n_users", used.shape[0]))
    model.global_mean_ = float(settings["global_mean"])
    model.rating_range_ = tuple(float(v) for v in settings["rating_range"])
    model.used_ = used
    for attr, kind in cls.PARTS.items():
        setattr(model, attr, getattr(parts, kind)[attr])
    for attr in cls.PART_MODELS:
        own = parts.unprefixed(attr.rstrip("_") + SEPARATOR)
        setattr(model, attr, rebuild(own, model._part_used(attr, used)))
    model._derive_parts()
    return model
