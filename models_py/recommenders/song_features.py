"""Song features from metadata alone, and how alike two songs are by them.

Features use title, release, artist and decade only, so a song nobody has used yet is as
recommendable (and as comparable) as any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import OneHotEncoder, normalize

from models_py.recommenders.topn import block_rows, top_n

# Relative weights of the feature groups (each group is L2-normalised before weighting).
# Artist and decade carry most of what makes two songs suit the same influencer; titles
# and album names add word overlap ("Live At Mumbai", "Greatest Hits") of weaker value.
DEFAULT_WEIGHTS = {"artist": 1.0, "decade": 0.5, "release": 0.3, "title": 0.2}


def decade_of(year: pd.Series) -> pd.Series:
    """'1980s' etc.; unknown or zero years give None (no decade feature, not a shared one)."""
    y = pd.to_numeric(year, errors="coerce")
    known = y.notna() & (y > 0)
    out = pd.Series(None, index=year.index, dtype=object)
    out[known] = ((y[known] // 10) * 10).astype(int).astype(str) + "s"
    return out


def song_features(songs: pd.DataFrame, weights: dict[str, float] | None = None) -> sp.csr_matrix:
    """Sparse, L2-normalised rows of TF-IDF(title) | TF-IDF(release) | one-hot artist | decade.

    ``songs`` has columns title, release_name, artist_name, release_year, one row per item
    code. Blank text and unknown years contribute nothing (never a shared "unknown" feature).
    """
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    frame = pd.DataFrame(
        {
            "title": songs["title"].fillna("").astype(str),
            "release": songs["release_name"].fillna("").astype(str),
            "artist": songs["artist_name"].fillna("").astype(str).str.strip().str.lower(),
            "decade": decade_of(songs["release_year"]),
        }
    )
    artists = sorted(a for a in frame["artist"].unique() if a)
    decades = sorted(d for d in frame["decade"].dropna().unique())
    frame["decade"] = frame["decade"].fillna("")

    def onehot(categories: list[str]) -> OneHotEncoder:
        # Categories listed without "": a blank value encodes to an all-zero row.
        return OneHotEncoder(categories=[categories], handle_unknown="ignore")

    def tfidf() -> TfidfVectorizer:
        return TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w\w+\b")

    groups = [
        ("title", tfidf(), "title"),
        ("release", tfidf(), "release"),
        ("artist", onehot(artists), ["artist"]),
        ("decade", onehot(decades), ["decade"]),
    ]
    # Each group L2-normalised first, so a weight means the same for every song. A group with
    # nothing to encode (no words, no artist, no year: a file without those columns) is left
    # out rather than failing: it would have no columns.
    present = {
        "title": _has_words(frame["title"]),
        "release": _has_words(frame["release"]),
        "artist": bool(artists),
        "decade": bool(decades),
    }
    blocks = [
        w[name] * normalize(sp.csr_matrix(est.fit_transform(frame[col])))
        for name, est, col in groups
        if present[name]
    ]
    if not blocks:  # no metadata at all: no features (content is not fitted, see registry)
        return sp.csr_matrix((len(frame), 0), dtype=np.float64)
    return normalize(sp.hstack(blocks, format="csr")).astype(np.float64)


def artist_codes(artist_name: pd.Series) -> np.ndarray:
    """An artist code per song (names compared stripped and lower-cased, as the features
    compare them), -1 where the artist is blank."""
    names = artist_name.fillna("").astype(str).str.strip().str.lower()
    codes, _ = pd.factorize(names.where(names != "", None), use_na_sentinel=True)
    return codes.astype(np.int64)


def _has_words(text: pd.Series) -> bool:
    return bool(text.str.contains(r"\w\w", regex=True).any())


def top_k_neighbours(features: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows by cosine (features are L2-normalised, >= 0), ties
    by row code; (int32 neighbour codes, similarities), padded with -1 / nan.

    A row is first ranked among the rows sharing its largest feature (its pivot: the artist,
    by the default weights). Any other row's cosine with it is at most the norm of the row
    without the pivot (Cauchy-Schwarz, other rows' norms <= 1), so when the k-th best inside
    beats that bound the list is exact. Rows it does not settle are ranked against every row,
    in blocks: the songs x songs similarity is never held whole.
    """
    n = features.shape[0]
    ids = np.full((n, k), -1, dtype=np.int32)
    sims = np.full((n, k), np.nan)
    if k == 0 or n == 0:
        return ids, sims
    x = sp.csr_matrix(features, dtype=np.float64)
    right = x.T.tocsc()  # features x songs: its columns sliced by the candidates
    pivot, bound = _pivots(x)
    by_pivot = sp.csr_matrix(x.T)  # a feature's row: the songs that have it, ascending
    by_pivot.sort_indices()
    order = np.argsort(pivot, kind="stable")
    starts = np.searchsorted(pivot[order], np.arange(x.shape[1] + 1))
    unsettled = [order[: starts[0]]]  # rows without features (pivot -1)
    for c in np.flatnonzero(np.diff(starts) > 0):
        rows = order[starts[c] : starts[c + 1]]
        cands = by_pivot.indices[by_pivot.indptr[c] : by_pivot.indptr[c + 1]]
        if cands.size <= k:  # k others cannot all come from inside
            unsettled.append(rows)
            continue
        inside = right[:, cands]
        step = block_rows(cands.size)
        for start in range(0, rows.size, step):
            chunk = rows[start : start + step]
            got_ids, got = _block_top_k(x[chunk] @ inside, chunk, cands, k)
            settled = got[:, -1] > bound[chunk]  # nan (fewer than k inside) is not
            ids[chunk[settled]], sims[chunk[settled]] = cands[got_ids[settled]], got[settled]
            unsettled.append(chunk[~settled])
    rest = np.sort(np.concatenate(unsettled))
    everyone = np.arange(n)
    for start in range(0, rest.size, block_rows(n, 1024)):
        chunk = rest[start : start + block_rows(n, 1024)]
        ids[chunk], sims[chunk] = _block_top_k(x[chunk] @ right, chunk, everyone, k)
    return ids, sims


# Added to a row's bound: the products are sums of a few floats, exact to far below this.
BOUND_SLACK = 1e-9


def _pivots(x: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each row's largest feature (lowest column among equals; -1: no features) and the bound
    on its cosine with any row without it: its norm without that feature, times the largest
    row norm."""
    n = x.shape[0]
    pivot = np.full(n, -1, dtype=np.int64)
    top = np.zeros(n)
    filled = np.flatnonzero(np.diff(x.indptr) > 0)
    if filled.size:
        rows = np.repeat(np.arange(n), np.diff(x.indptr))
        # Per row: largest value first, then lowest column; the first entry of each row.
        first = np.lexsort((x.indices, -x.data, rows))[x.indptr[filled]]
        pivot[filled], top[filled] = x.indices[first], x.data[first]
    squares = np.asarray(x.multiply(x).sum(axis=1)).ravel()
    largest = float(np.sqrt(squares.max())) if n else 0.0
    bound = np.sqrt(np.maximum(squares - top**2, 0.0)) * largest + BOUND_SLACK
    return pivot, bound


def _block_top_k(
    block: sp.spmatrix, rows: np.ndarray, columns: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """top_n of a rows x columns block of cosines (columns ascending codes), without each
    row itself and without rows sharing nothing; ids are positions in ``columns``."""
    dense = block.toarray()
    at = np.searchsorted(columns, rows)
    own = (at < columns.size) & (columns[np.minimum(at, columns.size - 1)] == rows)
    dense[np.flatnonzero(own), at[own]] = -np.inf  # not itself
    dense[dense <= 0] = -np.inf  # nothing in common: not a neighbour
    return top_n(dense, k, overwrite=True)


def pair_similarity(features: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cos(song a[k], song b[k]) for each k, without forming any song x song matrix."""
    if a.size == 0:
        return np.zeros(0)
    return np.asarray(features[a].multiply(features[b]).sum(axis=1)).ravel()
