"""A fitted model's parts in the `scores` schema, and back: the one writer and reader of the
parts tables (writer.TABLES: influencer_parts, song_parts, song_pair_parts, array_parts,
model_settings).

Written as coded frames (append_scores decodes the codes to ids); read for a few influencers
with bound parameters, their rows only, and every song's rows of the song-level parts.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.parts import Parts, to_parts
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


def parts_tables(method: str, model: RatingRecommender) -> dict[str, list[pd.DataFrame]]:
    """The parts of ``model`` (fitted on every reel) as coded frames, by scores table."""
    parts = to_parts(model)
    out: dict[str, list[pd.DataFrame]] = {"song_pair_parts": [], "model_settings": []}
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
    settings = {**parts.settings, DIMS: dims, PAIRS: sorted(parts.song_pairs)}
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


def _array_frame(method: str, part: str, key: str, values: np.ndarray) -> pd.DataFrame:
    """One row per first-axis element; the row's values as value_0.. (writer.LIST_TABLES)."""
    rows = values.reshape(values.shape[0], -1)
    columns = {key: np.arange(rows.shape[0], dtype=np.int32)}
    columns.update({f"value_{j}": rows[:, j] for j in range(rows.shape[1])})
    return _frame(method, part, columns)


def stored_methods(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The methods whose parts the warehouse keeps."""
    rows = con.execute(
        f"select distinct method from {SCHEMA}.model_settings where setting = 'class' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


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
    dims, n_items = settings.pop(DIMS), int(settings["n_items"])
    parts = Parts(settings={k: v for k, v in settings.items() if k != PAIRS})
    for name, (kind, ndim) in dims.items():
        getattr(parts, kind)[name] = _read_array(con, method, name, kind, ndim, influencer_id)
    for name in settings[PAIRS]:
        parts.song_pairs[name] = _read_pairs(con, method, name, influencer_id, n_items)
    return parts


def _read_array(
    con: duckdb.DuckDBPyConnection,
    method: str,
    name: str,
    kind: str,
    ndim: int,
    influencer_id: str,
) -> np.ndarray:
    """The part's rows, unnested in SQL to numeric columns (no Python list per row)."""
    table, _ = ARRAY_KINDS[kind]
    values = "unnest(value) as v, unnest(range(len(value))) as j"
    if kind == "influencer":
        sql = (
            f"select 0 as row, {values} from {SCHEMA}.{table} "
            "where influencer_id = ? and method = ? and part = ?"
        )
        params, n_rows = [influencer_id, method, name], 1
    elif kind == "song":
        sql = (
            f"{CODES} select item_code as row, {values} from {SCHEMA}.{table} as parts "
            "inner join song_codes on parts.song_id = song_codes.song_id "
            "where method = ? and part = ?"
        )
        params, n_rows = [method, name], None
    else:
        sql = (
            f"select position as row, {values} from {SCHEMA}.{table} where method = ? and part = ?"
        )
        params, n_rows = [method, name], None
    got = con.execute(sql, params).fetchnumpy()
    row, j, v = (np.asarray(got[c]) for c in ("row", "j", "v"))
    if n_rows is None:
        n_rows = int(row.max()) + 1 if row.size else 0
    out = np.zeros((n_rows, int(j.max()) + 1 if j.size else 0))
    out[row, j] = v
    return out[:, 0] if ndim == 1 else out.reshape(n_rows, -1)


def _read_pairs(
    con: duckdb.DuckDBPyConnection,
    method: str,
    name: str,
    influencer_id: str,
    n_items: int,
) -> sp.csr_matrix:
    """The rows of the songs the influencers used (the only rows a rebuild reads)."""
    got = con.execute(
        f"""{CODES}, used as (
            select distinct song_id from main.evaluation_splits where influencer_id = ?
        )
        select a.item_code as row, b.item_code as col, pairs.value
        from {SCHEMA}.song_pair_parts as pairs
        inner join used on pairs.song_id = used.song_id
        inner join song_codes as a on pairs.song_id = a.song_id
        inner join song_codes as b on pairs.other_song_id = b.song_id
        where pairs.method = ? and pairs.part = ?""",
        [influencer_id, method, name],
    ).fetchnumpy()
    row, col, value = (np.asarray(got[c]) for c in ("row", "col", "value"))
    return sp.csr_matrix((value, (row, col)), shape=(n_items, n_items))
