"""The `scores` schema: what the Python models write back for dbt to build marts on.

Created empty with the raw tables, so dbt's sources always exist and the first `dbt build`
(before any model has run) works; the scoring stage replaces their contents.
"""

from __future__ import annotations

import duckdb

SCHEMA = "scores"

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
        fit_seconds double, score_seconds double, serve_seconds double
    """,
}


def create_score_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}").fetchall()
    for name, columns in TABLES.items():
        con.execute(f"create or replace table {SCHEMA}.{name} ({columns})").fetchall()
