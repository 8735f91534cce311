"""Song features: unit rows where the same artist is closest, and the blocked top-k neighbours."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from models_py.recommenders import song_features as features_module
from models_py.recommenders.song_features import song_features, top_k_neighbours
from models_py.recommenders.topn import top_n
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


def dense_neighbours(features: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row against every row at once: the definition the pruned ranking must match."""
    sim = (features @ features.T).toarray()
    np.fill_diagonal(sim, -np.inf)
    sim[sim <= 0] = -np.inf
    return top_n(sim, k)


@pytest.mark.parametrize("seed", [0, 1])
def test_neighbours_ranked_by_artist_first_are_the_dense_ranking(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Songs whose artist holds more than k others are ranked among that artist's songs only
    (the bound settles them); the rest against every song. Skewed artists, shared decades and
    repeated titles make both kinds and many ties, which go to the lower code either way."""
    rng = np.random.default_rng(seed)
    n = 600
    artist = np.minimum(rng.zipf(1.6, n), 40)
    songs = pd.DataFrame(
        {
            "title": rng.choice(["Love", "Night Love", "Blue", "", "Rain Song"], n),
            "release_name": rng.choice(["Hits", "Live", ""], n),
            "artist_name": [f"artist {a}" if a < 40 else "" for a in artist],
            "release_year": rng.choice([0, 1975, 1988, 1999, 2004], n),
        }
    )
    features = song_features(songs)
    ranked = []
    block_top_k = features_module._block_top_k

    def counted(block, rows, columns, k):  # noqa: ANN001, ANN202 - the wrapped private helper
        ranked.append((rows.size, columns.size))
        return block_top_k(block, rows, columns, k)

    monkeypatch.setattr(features_module, "_block_top_k", counted)
    for k in (1, 5, 20):
        ranked.clear()
        got = top_k_neighbours(features, k)
        want = dense_neighbours(features, k)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        by_artist = sum(rows for rows, columns in ranked if columns < n)
        against_all = sum(rows for rows, columns in ranked if columns == n)
        # Some settled by their artist alone, some ranked against all (first tried or not).
        assert by_artist > 0 and 0 < against_all < n


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
