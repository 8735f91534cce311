"""Accepted hostile files of the less common formats, for tests/test_hostile_accepted.py's
build: UTF-16 csv, an xlsx text past Excel's limit, parquet durations, a Time no reel has."""

from __future__ import annotations

import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tests.files import HEADER, reel_row
from tests.hostile_files import CLEAN, Accepted, one, rows_of, write_csv
from tests.xlsx_craft import PLACEHOLDER, craft, one_long_string


def unicode_text(path: Path) -> None:
    """What Excel's "Unicode text" export writes: UTF-16 with its mark, tab-separated."""
    write_csv(path, [HEADER, *rows_of(9500, [{"Name": "Zoë Ørsted 🎵"}, {}])], "utf-16", "\t")


def check_unicode_text(con: duckdb.DuckDBPyConnection) -> None:
    got = one(con, "select influencer_name from influencers where handle = 'user9500'")
    assert got == [("Zoë Ørsted 🎵",)]


def durations(path: Path) -> None:
    base = [reel_row(9700), reel_row(9701)]
    columns = {h: pa.array([str(r[j]) for r in base]) for j, h in enumerate(HEADER)}
    days = [datetime.timedelta(days=3), datetime.timedelta(hours=6)]
    columns["Time"] = pa.array(days, pa.duration("us"))
    pq.write_table(pa.table(columns), path)


def check_durations(con: duckdb.DuckDBPyConnection) -> None:
    got = one(
        con,
        "select days_since_posted from reels where source_file = 'durations.parquet' "
        "order by source_row",
    )
    assert got == [(3.0,), (0.25,)]


FORMAT_CASES = [
    Accepted(
        "utf16_csv_from_excel",
        "unicode_text.csv",
        unicode_text,
        {(None, 2): CLEAN, (None, 3): CLEAN},
        check_unicode_text,
    ),
    Accepted(
        "xlsx_text_over_excel_limit",
        "long_cell.xlsx",
        lambda p: craft(
            p,
            [HEADER, reel_row(9600, Bio=PLACEHOLDER), reel_row(9601)],
            strings=one_long_string(3_000_000),
        ),
        {("Sheet", 2): "out_of_range", ("Sheet", 3): CLEAN},
        warning="long_cell.xlsx, sheet 'Sheet': 1 cell(s) longer than Excel's 32,767 characters",
    ),
    Accepted(
        "parquet_duration_time",
        "durations.parquet",
        durations,
        {(None, 1): CLEAN, (None, 2): CLEAN},
        check_durations,
    ),
    Accepted(
        "time_past_max_days_since_posted",
        "old_reels.csv",
        lambda p: write_csv(
            p, [HEADER, *rows_of(9800, [{"Time": "3650d"}, {"Time": "3651d"}, {"Time": "600w"}])]
        ),
        {(None, 2): CLEAN, (None, 3): "out_of_range", (None, 4): "out_of_range"},
    ),
]
