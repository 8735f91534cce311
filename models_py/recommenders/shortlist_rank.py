"""Top-n from per-influencer shortlists once the catalogue is too large to rank exactly.

Content's and the hybrid's exact rankings come down to scoring every influencer against every
song when their bounds do not settle, and a mix has no bound at all: at catalogue scale that
is most of a run. Past ``SHORTLIST_CELLS`` users x songs of the fit, they rank a shortlist per
influencer instead, the two-stage retrieval of large catalogues:

- content: the songs its exact ranking scores anyway (the songs of highest base and those
  sharing a rare feature with the profile), without requiring its bound to prove that no other
  song can enter;
- the hybrid: its usage model's ``SHORTLIST_SONGS`` songs of highest per-song score (the same
  for everyone) and content's own top ``SHORTLIST_FACTOR`` x n list of the influencer, scored
  by both and mixed, each component standardised by its mean and sd over a fixed sample of
  ``STATS_SAMPLE`` songs (all songs when there are fewer). The exact mix's top songs tend to be
  good in both components and top in neither, so two short lists of each component's own top
  miss most of them; a wide list of the usage model's top songs plus content's own holds them.

Below the threshold (the default data, the 1M bench) nothing changes. How closely the
shortlists agree with the exact lists was measured once (bench/notes.md), not by every run.
"""

from __future__ import annotations

import numpy as np

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.topn import top_n

# Users x songs of a fit beyond which content and the hybrid rank shortlists: the 1M bench
# stays exact, the 10M one does not.
SHORTLIST_CELLS = 20_000_000_000
SHORTLIST_FACTOR = 5  # content's own list is this many times the list asked for
SHORTLIST_SONGS = 8_192
STATS_SAMPLE = 4_096


def at_scale(model: RatingRecommender) -> bool:
    """Whether a fitted model ranks shortlists (see the module docstring); by the size of its
    fit, so a model rebuilt from its parts for one influencer ranks as the full one does."""
    return model.fit_users_ * model.n_items_ > SHORTLIST_CELLS


def stats_sample(n_items: int) -> np.ndarray:
    """The sorted song codes a component's per-influencer mean and sd are taken over."""
    if n_items <= STATS_SAMPLE:
        return np.arange(n_items)
    return np.sort(np.random.default_rng(0).choice(n_items, STATS_SAMPLE, replace=False))


def union_rows(common: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the songs of ``common`` (the same for every row) and of the row's ``own`` list
    (-1 = padding) sorted by code: (codes, each cell's column in [common | own], whether the
    cell is a first occurrence: padding and repeats are not candidates)."""
    both = np.concatenate([np.broadcast_to(common, (own.shape[0], common.size)), own], axis=1)
    column = np.argsort(both, axis=1, kind="stable")
    cand = np.take_along_axis(both, column, axis=1)
    valid = cand >= 0
    valid[:, 1:] &= cand[:, 1:] != cand[:, :-1]
    return cand, column, valid


def standardise(scores: np.ndarray, sample_scores: np.ndarray) -> np.ndarray:
    """(scores - row mean) / row sd, mean and sd over the row's sample cells (sd 0: 1)."""
    mean = sample_scores.mean(axis=1, keepdims=True)
    sd = sample_scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(sd > 0, sd, 1.0)


def mixed_top_n(
    cand: np.ndarray,
    valid: np.ndarray,
    usage: np.ndarray,
    content: np.ndarray,
    weight: float,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top n of (1 - weight) x usage + weight x content over each row's valid candidates (the
    candidates sorted by code, so ties go to the lower code as everywhere)."""
    scores = np.where(valid, (1.0 - weight) * usage + weight * content, -np.inf)
    local, vals = top_n(scores, n, overwrite=True)
    ids = np.take_along_axis(cand, np.maximum(local, 0), axis=1)
    return np.where(local >= 0, ids, -1).astype(np.int32), vals
