"""Input files with optional columns left out, and what a build of each must say (issue 18)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from models_py.contract import RAW_COLUMNS, REQUIRED_COLUMNS

OPTIONAL = tuple(c for c in RAW_COLUMNS if c not in REQUIRED_COLUMNS)
METADATA = frozenset({"title", "release", "artist_name", "year"})
# A tiny generated file: a full run on it costs little more than dbt's own start-up.
TINY = {"n_influencers": 50, "n_celebrities": 10, "n_songs": 80}
TINY_VARS = {"min_user_count": 2}

# Where each input column lands in a built warehouse (the stored copies, every layer).
STORED_AS = {
    "ER": "er", "Followers": "followers", "Posts": "posts", "Bio": "bio",
    "Name": "influencer_name", "title": "title", "release": "release_name",
    "artist_name": "artist_name", "year": "release_year", "Curr_ER": "curr_er",
    "Likes": "likes", "Comments": "comments", "Time": "days_since_posted",
    "use_count": "use_count", "Delta": "delta",
}  # fmt: skip

# The report's note in place of each chart, and the columns whose absence empties it.
CHART_NOTES = {
    "No ER in this warehouse": {"ER"},
    "No Followers in this warehouse": {"Followers"},
    "No Posts in this warehouse": {"Posts"},
    "No reel with both Likes and Comments": {"Likes", "Comments"},
    "No Time (since posting) in this warehouse": {"Time"},
}
NO_DELTA_NOTE = "No Delta (nor ER and Curr_ER to derive it)"


@dataclass(frozen=True)
class Shape:
    dropped: frozenset[str]

    @property
    def no_delta(self) -> bool:
        """Delta left out and not derivable (Curr_ER − ER needs both)."""
        return "Delta" in self.dropped and bool({"ER", "Curr_ER"} & self.dropped)

    @property
    def no_metadata(self) -> bool:
        return self.dropped >= METADATA

    def not_fitted(self) -> dict[str, str]:
        """The reason model_runs must give for each model the data cannot feed."""
        rating = ["global_mean", "bias_baseline", "report_user_cf", "report_item_cf", "report_svd"]
        rating += ["knn_baseline", "biased_mf"]
        out: dict[str, str] = {}
        if self.no_delta:
            out |= dict.fromkeys([*rating, "er_bias_baseline", "er_biased_mf"], "no Delta")
            out["hybrid"] = out["two_stage"] = "no Delta"
        elif "ER" in self.dropped:
            out |= dict.fromkeys(["er_bias_baseline", "er_biased_mf"], "no ER")
        if self.no_metadata:
            out["content"] = "no song metadata"
            out.setdefault("hybrid", "no song metadata")
        if "artist_name" in self.dropped:
            out["artist_topics"] = "no artist names"
        return out

    def chart_notes(self) -> dict[str, bool]:
        """Each chart note, and whether this shape's report must show it."""
        notes = {note: bool(gone & self.dropped) for note, gone in CHART_NOTES.items()}
        return {**notes, NO_DELTA_NOTE: self.no_delta}


def write_shape(source: Path, folder: Path, dropped: frozenset[str], fmt: str) -> Path:
    """The generated parquet parts of `source` without the `dropped` columns, as parquet or
    csv files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in sorted(source.glob("*.parquet")):
        table: pa.Table = pq.read_table(part)
        table = table.drop_columns([c for c in dropped if c in table.column_names])
        if fmt == "csv":
            pa_csv.write_csv(table, folder / part.with_suffix(".csv").name)
        else:
            pq.write_table(table, folder / part.name)
    return folder


def reelrec(*args: str) -> tuple[int, str]:
    """`reelrec ARGS` in-process, as a user runs it: (exit code, what it printed)."""
    from models_py.cli.commands import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(list(args))
    return code, printed.getvalue()


def var_args(dbt_vars: dict[str, object]) -> list[str]:
    return [arg for k, v in dbt_vars.items() for arg in ("--var", f"{k}={v}")]


def null_columns(con: duckdb.DuckDBPyConnection, shape: Shape) -> None:
    """A built warehouse as if the input had lacked `shape.dropped`: every stored copy of
    those columns set null (Delta only when it could not be derived), every tier unknown
    without Followers. Derived aggregates are left as built."""
    gone = {STORED_AS[c] for c in shape.dropped if c != "Delta" or shape.no_delta}
    if "Followers" in shape.dropped:
        gone |= {"tier", "is_celebrity"}
    tables = con.execute(
        "select table_schema, table_name, list(column_name) "
        "from information_schema.columns inner join information_schema.tables "
        "using (table_schema, table_name) "
        "where table_type = 'BASE TABLE' and table_schema in ('main', 'intermediate') "
        "group by all"
    ).fetchall()
    blank = {"tier": "'unknown'", "is_celebrity": "false"}
    for schema, name, columns in tables:
        hit = sorted(gone & set(columns))
        if hit:
            sets = ", ".join(f"{c} = {blank.get(c, 'null')}" for c in hit)
            con.execute(f'update "{schema}"."{name}" set {sets}').fetchall()
