"""Top-n lists on Spark: each partition of users scored against every song in numpy blocks.

The song side (a bias and k factors per song) is small and broadcast; a block of users x songs
never exceeds recommenders.topn's cell cap, so no executor holds a users x songs matrix. The
ranking itself is recommenders.topn's: score desc, then song code asc, excluded songs out.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from pyspark.broadcast import Broadcast
from pyspark.sql import DataFrame

from models_py.recommenders.topn import block_rows, mask_excluded, top_n

LISTS = "user int, rank int, item int, score double"


def top_n_in_blocks(
    rows: DataFrame,
    mu: float,
    item_bias: np.ndarray,
    item_factors: np.ndarray,
    n_items: int,
    n: int,
) -> DataFrame:
    """(user, rank, item, score) of each row of ``rows`` (user int, bias double, features
    array<float>, excluded array<int>): the n best items by mu + bias + item_bias +
    features . item_factors, the ``excluded`` items left out."""
    spark = rows.sparkSession
    songs: Broadcast = spark.sparkContext.broadcast(
        (float(mu), np.asarray(item_bias, np.float64), np.asarray(item_factors, np.float64))
    )

    def lists(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        mu, bias, factors = songs.value
        for batch in batches:
            yield from _batch_top_n(batch, mu, bias, factors, n_items, n)

    return rows.mapInArrow(lists, LISTS)


def _batch_top_n(
    batch: pa.RecordBatch,
    mu: float,
    item_bias: np.ndarray,
    item_factors: np.ndarray,
    n_items: int,
    n: int,
) -> Iterator[pa.RecordBatch]:
    users = batch.column("user").to_numpy().astype(np.int32)
    user_bias = batch.column("bias").to_numpy()
    k = item_factors.shape[1]
    features = pc.list_flatten(batch.column("features")).to_numpy().reshape(-1, k)
    excluded = _as_csr(batch.column("excluded"), n_items)
    step = block_rows(n_items)
    for s in range(0, users.size, step):
        block = slice(s, s + step)
        scores = features[block].astype(np.float64) @ item_factors.T
        scores += (mu + user_bias[block])[:, None] + item_bias[None, :]
        mask_excluded(scores, excluded[block])
        ids, vals = top_n(scores, n, True)
        keep = ids >= 0
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(np.broadcast_to(users[block, None], ids.shape)[keep]),
                pa.array(np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), ids.shape)[keep]),
                pa.array(ids[keep]),
                pa.array(vals[keep]),
            ],
            names=["user", "rank", "item", "score"],
        )


def _as_csr(lists: pa.ListArray, n_items: int) -> sp.csr_matrix:
    """One row per list: its items as stored cells (users x items)."""
    offsets = lists.offsets.to_numpy()
    items = pc.list_flatten(lists).to_numpy().astype(np.int64)
    csr = sp.csr_matrix(
        (np.ones(items.size), items, offsets - offsets[0]), shape=(len(lists), n_items)
    )
    csr.sum_duplicates()  # a song used twice, or in two splits, counts once
    return csr
