"""Song features: unit rows where the same artist is closest, and the blocked top-k neighbours."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from models_py.recommenders.song_features import song_features, top_k_neighbours
from tests.six_songs import SONGS


@pytest.fixture()
def features() -> sp.csr_matrix:
    return song_features(SONGS)


def test_features_are_unit_rows_and_same_artist_is_closest(features: sp.csr_matrix) -> None:
    assert sp.issparse(features) and features.shape[0] == len(SONGS)
    np.testing.assert_allclose(sp.linalg.norm(features, axis=1), 1.0)
    sim = (features @ features.T).toarray()
    # Song 1 (Ayla, 1980s, same album) is song 0's closest; Bo's songs share nothing with it.
    assert np.argmax(np.where(np.arange(6) == 0, -1, sim[0])) == 1
    assert sim[0, 2] == 0 and sim[0, 3] == 0
    # An unknown year is no shared feature: song 4 is close to 0 only through the artist.
    assert 0 < sim[0, 4] < sim[0, 1]


def test_neighbours_are_blocked_top_k_without_self(features: sp.csr_matrix) -> None:
    ids, sims = top_k_neighbours(features, 2)
    dense = (features @ features.T).toarray()
    for song in range(len(SONGS)):
        row = ids[song][ids[song] >= 0]
        assert song not in row
        np.testing.assert_allclose(sims[song][: row.size], dense[song, row])
    assert ids[2, 0] == 3 and ids[3, 0] == 2  # Bo's two songs


@pytest.mark.parametrize("blank", list(itertools.product([False, True], repeat=4)))
def test_any_metadata_column_may_be_blank(blank: tuple[bool, ...]) -> None:
    """Issue 18, item 1: a file without artist or year (ratings only, or artist without year)
    made OneHotEncoder(categories=[[]]) fail. A blank group adds no columns instead."""
    columns = ["title", "release_name", "artist_name", "release_year"]
    songs = SONGS.copy()
    for column, gone in zip(columns, blank, strict=True):
        if gone:
            songs[column] = None
    features = song_features(songs)
    assert features.shape[0] == len(SONGS)
    if all(blank):
        assert features.nnz == 0
    else:
        assert np.isfinite(features.data).all() and features.nnz > 0
