"""A fitted model's parts in the `scores` schema, and back: the one writer and reader of the
parts tables (writer.TABLES: influencer_parts, song_parts, song_pair_parts,
song_feature_parts, array_parts, model_settings).

Written as coded frames (append_scores decodes the codes to ids); read for a few influencers
with bound parameters, their rows only, and every song's rows of the song-level parts.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.parts import NO_PARTS, NoPartsError, Parts, SongRows, to_parts
from models_py.scoring.codes import CODES
from models_py.scoring.writer import SCHEMA

# Tables of the kinds whose rows are arrays, and the coded column that keys them.
ARRAY_KINDS = {
    "influencer": ("influencer_parts", "user"),
    "song": ("song_parts", "item"),
    "arrays": ("array_parts", "position"),
}
DIMS = "dims"  # setting: each array part's kind and dimensions (1: a value per row)
PAIRS = "pairs"  # setting: the song_pairs parts' names
ROWS = "song_rows"  # setting: each song_rows part's width, by name (its rows in song_parts)
# CTE (after CODES) of the songs one influencer used, bound as the first parameter: the only
# rows of song_pairs and song_rows parts a rebuild for them reads.
USED_SONGS = """used as materialized (
    select distinct song_id from main.evaluation_splits where influencer_id = ?
)"""
FEATURES = "features"  # setting: each song_features part's number of features, by name


def parts_tables(method: str, model: RatingRecommender) -> dict[str, list[pd.DataFrame]]:
    """The parts of ``model`` (fitted on every reel) as coded frames, by scores table. A model
    without parts is kept as a setting saying so: asked for on demand, it fails loudly."""
    try:
        parts = to_parts(model)
    except NoPartsError as error:
        parts = Parts(settings={NO_PARTS: str(error)})
    out: dict[str, list[pd.DataFrame]] = {
        "song_pair_parts": [],
        "song_feature_parts": [],
        "model_settings": [],
    }
    dims = {}
    for kind, (table, key) in ARRAY_KINDS.items():
        out[table] = []
        for name, values in getattr(parts, kind).items():
            values = np.asarray(values, dtype=np.float64)
            dims[name] = [kind, values.ndim]
            out[table].append(_array_frame(method, name, key, values))
    for name, pairs in parts.song_pairs.items():
        coo = sp.coo_matrix(pairs)  # explicit zeros kept: a stored neighbour of similarity 0
        frame = {"item": coo.row.astype(np.int32), "other_item": coo.col.astype(np.int32)}
        out["song_pair_parts"].append(_frame(method, name, {**frame, "value": coo.data}))
    widths = {}
    for name, (songs, rows) in parts.song_rows.items():
        widths[name] = int(rows.shape[1])
        out["song_parts"].append(
            _array_frame(method, name, "item", np.asarray(rows, dtype=np.float64), songs)
        )
    features = {}
    for name, matrix in parts.song_features.items():
        features[name] = int(matrix.shape[1])
        out["song_feature_parts"].append(_feature_frame(method, name, matrix))
    settings = {
        **parts.settings,
        DIMS: dims,
        PAIRS: sorted(parts.song_pairs),
        ROWS: widths,
        FEATURES: features,
    }
    out["model_settings"].append(
        pd.DataFrame(
            {
                "method": method,
                "setting": list(settings),
                "value": [json.dumps(v, default=float) for v in settings.values()],
            }
        )
    )
    return out


def _frame(method: str, part: str, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Method and part as categoricals: a string object per row of millions would cost more
    than the numbers."""
    n = len(next(iter(columns.values())))
    constant = {
        name: pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value])
        for name, value in (("method", method), ("part", part))
    }
    return pd.DataFrame({**constant, **columns})


def _feature_frame(method: str, part: str, matrix: sp.csr_matrix) -> pd.DataFrame:
    """One row per stored (song, feature) cell. A song's features must be in column order: the
    order its sums run in (content_rank), the one the reader rebuilds the rows in."""
    csr = sp.csr_matrix(matrix)
    if not csr.has_sorted_indices:
        raise ValueError(f"{part}: song features are read back in feature order; sort them")
    rows = np.repeat(np.arange(csr.shape[0], dtype=np.int32), np.diff(csr.indptr))
    columns = {"item": rows, "feature": csr.indices.astype(np.int32), "value": csr.data}
    return _frame(method, part, columns)


# Widths up to this travel as a column per value (numpy columns pickle lean from the workers);
# wider rows as one Arrow list column (artist_topics' topics x thousands of artists: a column
# per value made a frame of thousands of columns, slow to build and insert).
MAX_VALUE_COLUMNS = 64


def _array_frame(
    method: str, part: str, key: str, values: np.ndarray, keys: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per first-axis element (its `key`: its position, or `keys`); its values as
    value_0.. or, wider, one list `value` (writer.py: one frame per insert)."""
    rows = values.reshape(values.shape[0], -1)
    at = np.arange(rows.shape[0]) if keys is None else np.asarray(keys)
    columns: dict[str, object] = {key: at.astype(np.int32)}
    if rows.shape[1] <= MAX_VALUE_COLUMNS:
        columns.update({f"value_{j}": rows[:, j] for j in range(rows.shape[1])})
        return _frame(method, part, columns)
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    offsets = np.arange(rows.shape[0] + 1, dtype=np.int64) * rows.shape[1]
    listed = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(rows.ravel()))
    columns["value"] = pd.arrays.ArrowExtensionArray(listed)
    return _frame(method, part, columns)


def stored_methods(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The methods whose parts the warehouse keeps (none in a warehouse built before them)."""
    try:
        sql = f"select distinct method from {SCHEMA}.model_settings order by 1"
        return [r[0] for r in con.execute(sql).fetchall()]
    except duckdb.CatalogException:
        return []


def read_parts(con: duckdb.DuckDBPyConnection, method: str, influencer_id: str) -> Parts | None:
    """``method``'s parts for one influencer (their influencer parts only, as code 0) and
    every song, the song pairs only of the songs they used; None: no parts kept.
    Equality filters on the ids: the parts are written in id order, so DuckDB's zone maps
    skip the other influencers' row groups."""
    settings = {
        k: json.loads(v)
        for k, v in con.execute(
            f"select setting, value from {SCHEMA}.model_settings where method = ?", [method]
        ).fetchall()
    }
    if not settings:
        return None
    if NO_PARTS in settings:  # rebuild says why
        return Parts(settings=settings)
    dims, n_items = settings.pop(DIMS), int(settings["n_items"])
    features = settings.pop(FEATURES, {})
    parts = Parts(settings={k: v for k, v in settings.items() if k not in (PAIRS, ROWS)})
    for kind in ARRAY_KINDS:
        names = [name for name, (of_kind, _) in dims.items() if of_kind == kind]
        if names:
            arrays = _read_arrays(con, method, kind, names, influencer_id)
            for name, values in zip(names, arrays, strict=True):
                getattr(parts, kind)[name] = values[:, 0] if dims[name][1] == 1 else values
    for name in settings[PAIRS]:
        parts.song_pairs[name] = _read_pairs(con, method, name, influencer_id, n_items)
    for name, width in settings.get(ROWS, {}).items():
        parts.song_rows[name] = _read_song_rows(con, method, name, influencer_id, width)
    for name, n_features in features.items():
        parts.song_features[name] = _read_features(con, method, name, n_items, n_features)
    return parts


def _read_arrays(
    con: duckdb.DuckDBPyConnection, method: str, kind: str, names: list[str], influencer_id: str
) -> list[np.ndarray]:
    """The parts ``names`` of one kind as 2-D arrays, read in one query (one scan of the
    table) and unnested in SQL to numeric columns: no Python list per row."""
    table, _ = ARRAY_KINDS[kind]
    select = (
        "select list_position(?, part) - 1 as k, {row} as row, unnest(value) as v, "
        f"unnest(range(len(value))) as j from {SCHEMA}.{table} as parts {{join}} "
        "where method = ? and list_contains(?, part)"
    )
    params: list = [names, method, names]
    if kind == "influencer":
        sql = select.format(row="0", join="") + " and influencer_id = ?"
        params.append(influencer_id)
    elif kind == "song":
        join = "inner join song_codes on parts.song_id = song_codes.song_id"
        sql = CODES + select.format(row="item_code", join=join)
    else:
        sql = select.format(row="position", join="")
    got = con.execute(sql, params).fetchnumpy()
    k, row, j, v = (np.asarray(got[c]) for c in ("k", "row", "j", "v"))
    out = []
    for index in range(len(names)):
        mine = k == index
        n_rows = int(row[mine].max()) + 1 if mine.any() else 0
        values = np.zeros((n_rows, int(j[mine].max()) + 1 if mine.any() else 0))
        values[row[mine], j[mine]] = v[mine]
        out.append(values)
    return out


def _read_pairs(
    con: duckdb.DuckDBPyConnection,
    method: str,
    name: str,
    influencer_id: str,
    n_items: int,
) -> sp.csr_matrix:
    """The rows of the songs the influencers used (the only rows a rebuild reads)."""
    got = con.execute(
        # Materialised: the few pairs first, then their codes (left to itself, the planner
        # joined the codes to every pair of the table first).
        f"""{CODES}, {USED_SONGS},
        pairs as materialized (
            select song_id, other_song_id, value from {SCHEMA}.song_pair_parts
            where method = ? and part = ? and song_id in (select song_id from used)
        )
        select a.item_code as row, b.item_code as col, pairs.value
        from pairs
        inner join song_codes as a on pairs.song_id = a.song_id
        inner join song_codes as b on pairs.other_song_id = b.song_id""",
        [influencer_id, method, name],
    ).fetchnumpy()
    row, col, value = (np.asarray(got[c]) for c in ("row", "col", "value"))
    return sp.csr_matrix((value, (row, col)), shape=(n_items, n_items))


def _read_song_rows(
    con: duckdb.DuckDBPyConnection, method: str, name: str, influencer_id: str, width: int
) -> SongRows:
    """The rows of a song_rows part of the songs the influencer used (the only rows a rebuild
    reads), unnested in SQL to numeric columns."""
    got = con.execute(
        f"""{CODES}, {USED_SONGS},
        picked as materialized (
            select song_id, value from {SCHEMA}.song_parts
            where method = ? and part = ? and song_id in (select song_id from used)
        )
        select song_codes.item_code as row, unnest(picked.value) as v,
            unnest(range(len(picked.value))) as j
        from picked inner join song_codes on picked.song_id = song_codes.song_id""",
        [influencer_id, method, name],
    ).fetchnumpy()
    row, j, v = (np.asarray(got[c]) for c in ("row", "j", "v"))
    songs, at = np.unique(row, return_inverse=True)
    rows = np.zeros((songs.size, width))
    rows[at, j] = v
    return SongRows(songs.astype(np.int64), rows)


def _read_features(
    con: duckdb.DuckDBPyConnection, method: str, name: str, n_items: int, n_features: int
) -> sp.csr_matrix:
    """Every song's row of a song_features part, features in their order within a row."""
    got = con.execute(
        f"""{CODES}
        select song_codes.item_code as row, parts.feature, parts.value
        from {SCHEMA}.song_feature_parts as parts
        inner join song_codes on parts.song_id = song_codes.song_id
        where parts.method = ? and parts.part = ?""",
        [method, name],
    ).fetchnumpy()
    row, feature, value = (np.asarray(got[c]) for c in ("row", "feature", "value"))
    order = np.lexsort((feature, row))
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n_items))]
    return sp.csr_matrix((value[order], feature[order], indptr), shape=(n_items, n_features))
