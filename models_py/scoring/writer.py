"""The `scores` schema: what the Python models write back for dbt to build marts on.

Created empty with the raw tables, so dbt's sources always exist and the first `dbt build`
(before any model has run) works; the scoring stage replaces their contents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import TracebackType

import duckdb
import pandas as pd

from models_py.scoring.codes import CODES

SCHEMA = "scores"

# Every score table and its columns, in the order the scoring stage writes them.
TABLES: dict[str, str] = {
    "test_predictions": """
        method varchar, influencer_id varchar, song_id varchar, prediction double
    """,
    "evaluation_recommendations": """
        method varchar, scenario varchar, influencer_id varchar, rank integer,
        song_id varchar, score double, because_song_id varchar
    """,
    "recommendations": """
        method varchar, influencer_id varchar, rank integer, song_id varchar, score double,
        because_song_id varchar
    """,
    "song_neighbours": """
        method varchar, song_id varchar, neighbour_rank integer, neighbour_song_id varchar,
        similarity double
    """,
    "model_runs": """
        run_id varchar, method varchar, family varchar, params varchar,
        data_fingerprint varchar, n_train bigint, n_test bigint,
        fit_seconds double, score_seconds double, serve_seconds double,
        trained_on varchar, not_fitted_reason varchar,
        validation_map double, validation_map_se double, validation_relevance varchar,
        is_default boolean,
        rank_tuning varchar, serving varchar
    """,
    # The servable models' fitted parts (recommenders.parts), refitted on every reel: what
    # on-demand lists are computed from. value: the part's row (one number for a bias).
    "influencer_parts": "method varchar, part varchar, influencer_id varchar, value double[]",
    "song_parts": "method varchar, part varchar, song_id varchar, value double[]",
    "song_pair_parts": """
        method varchar, part varchar, song_id varchar, other_song_id varchar, value double
    """,
    "song_feature_parts": """
        method varchar, part varchar, song_id varchar, feature integer, value double
    """,
    "array_parts": "method varchar, part varchar, position integer, value double[]",
    "model_settings": "method varchar, setting varchar, value varchar",
}
# influencer_parts, song_parts and array_parts frames carry their list column as value_0 ..
# value_{w-1} or as one Arrow list column `value` (parts_store.MAX_VALUE_COLUMNS), the width
# fixed per frame: they go in one frame per insert (ScoreWriter: not BATCHED).

# Coded columns of the frames the models return: the code table (of CODES) each is looked up
# in, its code and id columns, and the column of TABLES it becomes.
CODED_COLUMNS = {
    "user": ("influencer_codes", "user_code", "influencer_id", "influencer_id"),
    "item": ("song_codes", "item_code", "song_id", "song_id"),
    "because": ("song_codes", "item_code", "song_id", "because_song_id"),
    "neighbour_item": ("song_codes", "item_code", "song_id", "neighbour_song_id"),
    "other_item": ("song_codes", "item_code", "song_id", "other_song_id"),
}
CODE_TABLES = ("influencer_codes", "song_codes")  # the lookups of CODED_COLUMNS, named in CODES


@dataclass
class ScoreTables:
    """One job's rows for each of TABLES (a field per table, same names)."""

    test_predictions: list[pd.DataFrame]
    evaluation_recommendations: list[pd.DataFrame]
    recommendations: list[pd.DataFrame]
    song_neighbours: list[pd.DataFrame]
    model_runs: list[dict]
    influencer_parts: list[pd.DataFrame] = field(default_factory=list)
    song_parts: list[pd.DataFrame] = field(default_factory=list)
    song_pair_parts: list[pd.DataFrame] = field(default_factory=list)
    song_feature_parts: list[pd.DataFrame] = field(default_factory=list)
    array_parts: list[pd.DataFrame] = field(default_factory=list)
    model_settings: list[pd.DataFrame] = field(default_factory=list)

    @classmethod
    def empty(cls, **tables: list) -> ScoreTables:
        """No rows, but for the `tables` given (by field name)."""
        return cls(**{name: tables.get(name, []) for name in TABLES})


def create_score_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}").fetchall()
    for name, columns in TABLES.items():
        con.execute(f"create or replace table {SCHEMA}.{name} ({columns})").fetchall()


def clear_scores(con: duckdb.DuckDBPyConnection) -> None:
    """Empty every scores table (shapes fixed by TABLES) before a run appends."""
    for name in TABLES:
        con.execute(f"delete from {SCHEMA}.{name}").fetchall()


# The judge phase's tables, whose frames (one per model) wait for more of their table until
# this many rows: DuckDB writes one insert of a million rows in about a third of the time ten
# of 100k take (bench/notes.md). The serve phase's parts go in as they come: batched, they
# would be written after the last worker finished, while nothing else runs.
BATCHED = ("evaluation_recommendations", "test_predictions", "model_runs")
BATCH_ROWS = 1_000_000


class ScoreWriter:
    """Appends jobs' tables to the scores schema, as a context manager on one connection.

    The frames carry integer codes (cheap to send back from the workers); DuckDB joins them to
    the ids by the same numbering the read used (CODES; no code: NULL), numbered once into
    temp tables on entry rather than per insert (at 10M rows a numbering of the influencers
    cost 0.45 s). The BATCHED tables' frames wait until BATCH_ROWS, `flush` or the exit
    (whoever reads one mid-block flushes first). Nothing pending is written when the block
    raises."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._pending: dict[str, list[pd.DataFrame]] = defaultdict(list)
        # Its own temp tables' names: writers on one connection must not drop each other's.
        self._codes = {lookup: f"{lookup}_{id(self):x}" for lookup in CODE_TABLES}

    def __enter__(self) -> ScoreWriter:
        for lookup, temp in self._codes.items():
            self.con.execute(
                f"create or replace temp table {temp} as {CODES} select * from {lookup}"
            ).fetchall()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.flush()
        finally:
            self._pending.clear()
            for temp in self._codes.values():
                self.con.execute(f"drop table if exists temp.main.{temp}").fetchall()

    def append(self, tables: ScoreTables) -> None:
        """Add one job's frames (written now or with the next batch of their table)."""
        for name in TABLES:
            frames = getattr(tables, name)
            if name == "model_runs":
                frames = [pd.DataFrame(frames)]
            frames = [f for f in frames if len(f)]
            if name not in BATCHED:  # one insert per frame (list widths differ by part)
                for frame in frames:
                    _insert_decoded(self.con, name, frame, self._codes)
                continue
            self._pending[name].extend(frames)
            if sum(len(f) for f in self._pending[name]) >= BATCH_ROWS:
                self._write(name)

    def write(self, tables: ScoreTables) -> None:
        """Add one job's frames now, with whatever was pending (for a reader to follow)."""
        self.append(tables)
        self.flush()

    def flush(self) -> None:
        for name in list(self._pending):
            self._write(name)

    def _write(self, name: str) -> None:
        frames = self._pending.pop(name, [])
        if frames:
            _insert_decoded(self.con, name, pd.concat(frames, ignore_index=True), self._codes)


def append_scores(con: duckdb.DuckDBPyConnection, tables: ScoreTables) -> None:
    """Add one job's frames to the scores tables now (ScoreWriter, for one job)."""
    with ScoreWriter(con) as writer:
        writer.write(tables)


def _insert_decoded(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, codes: dict[str, str]
) -> None:
    """Insert ``frame`` into ``table``, its codes looked up in a ScoreWriter's temp tables
    (``codes``: their names by CODE_TABLES' names)."""
    coded = [c for c in frame.columns if c in CODED_COLUMNS]
    listed = [c for c in frame.columns if c.startswith("value_")]
    plain = [c for c in frame.columns if c not in CODED_COLUMNS and c not in listed]
    select = [f"incoming.{c}" for c in plain]
    if listed:  # packed in SQL: a Python list per row would cost a second per million
        select.append(f"[{', '.join(f'incoming.{c}' for c in listed)}]::double[] as value")
    joins = []
    for k, column in enumerate(coded):
        lookup, code, id_column, as_name = CODED_COLUMNS[column]
        select.append(f"c{k}.{id_column} as {as_name}")
        joins.append(f"left join {codes[lookup]} as c{k} on c{k}.{code} = incoming.{column}")
    con.register("incoming", frame)
    try:
        con.execute(
            f"insert into {SCHEMA}.{table} by name select {', '.join(select)} "
            f"from incoming {' '.join(joins)}"
        ).fetchall()
    finally:
        con.unregister("incoming")
