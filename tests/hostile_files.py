"""Hostile input files for tests/test_hostile_accepted.py and tests/test_hostile_refused.py:
the writers both use, the accepted cases' files that take more than a list of rows to write,
and the checks an accepted file's rows must pass in the built warehouse."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from tests.files import HEADER, reel_row

CLEAN = None  # expected rule of a row that passes every check


@dataclass(frozen=True)
class Accepted:
    """A file the run accepts; `rules` maps (sheet, row) to the expected rule (None: clean)."""

    id: str
    file: str
    write: Callable[[Path], object]
    rules: dict[tuple[str | None, int], str | None]
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    warning: str | None = None  # a substring the run must print about this file


def write_csv(
    path: Path,
    rows: list[list[object]],
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def rows_of(base: int, overrides: list[dict[str, object]]) -> list[list[object]]:
    """Data rows with distinct influencer and song per case (no accidental duplicates)."""
    return [reel_row(base + i, **o) for i, o in enumerate(overrides)]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


EMOJI_NAME = "Priya 🎵🔥👩‍👩‍👧"
RTL_BIO = "مرحبا بالعالم \u200f שלום"
# XML normalises \r\n to \n, so an xlsx cell cannot keep a carriage return anyway.
MULTILINE_BIO = "line one\nline two\nline three\ttabbed"


def check_text_kept(con: duckdb.DuckDBPyConnection) -> None:
    got = dict(
        one(
            con,
            "select handle, influencer_name || '|' || bio from influencers "
            "where handle in ('user3000', 'user3001', 'user3002')",
        )
    )
    assert got == {
        "user3000": f"{EMOJI_NAME}|bio 🎵",
        "user3001": f"Person 3001|{RTL_BIO}",
        "user3002": f"Name\twith tab|{MULTILINE_BIO}",
    }


def check_one_influencer_for_url_spellings(con: duckdb.DuckDBPyConnection) -> None:
    from models_py.cli.lookup import find_influencer

    assert one(
        con,
        "select influencer_id, handle, songs_used from influencers where handle = 'dupuser'",
    ) == [("https://www.instagram.com/dupuser/", "dupuser", 10)]
    # Every command looking an influencer up takes any of those spellings.
    for typed in ("dupuser", "@DUPUSER", "instagram.com/dupuser", "www.instagram.com/DupUser/"):
        assert find_influencer(con, typed)[:2] == ("https://www.instagram.com/dupuser/", "dupuser")


def check_extra_columns_reported(con: duckdb.DuckDBPyConnection) -> None:
    assert one(
        con, "select ignored_columns from source_file_audit where source_file = 'extra_cols.xlsx'"
    ) == [("Notes, Unnamed extra",)]


def check_header_row(con: duckdb.DuckDBPyConnection) -> None:
    assert one(
        con, "select header_row from source_file_audit where source_file = 'title_block.xlsx'"
    ) == [(4,)]


def check_huge_cells(con: duckdb.DuckDBPyConnection) -> None:
    """A csv cell over Excel's limit is kept cut, in quarantine; one at the limit is clean."""
    assert one(
        con, "select length(raw_bio) from quarantined_reels where source_file = 'huge_cell.csv'"
    ) == [(32_768,)]
    assert one(con, "select length(bio) from influencers where handle = 'user9100'") == [(32_767,)]


FORMULA_TITLES = [
    '=HYPERLINK("http://evil.example","free")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
]
INJECTION_SONG = "SO'; DROP TABLE main.reels; --"
INJECTION_TITLE = "Robert'); DROP TABLE songs;--"
INJECTION_URL = "https://www.instagram.com/o'brien;select/"


def check_injection_is_data(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "select title from songs where song_id = ?", [INJECTION_SONG.upper()]) == [
        (INJECTION_TITLE,)
    ]
    assert one(con, "select handle from influencers where influencer_id = ?", [INJECTION_URL]) == [
        ("o'brien;select",)
    ]
    assert one(con, "select count(*) > 0 from reels")[0][0]


def check_latin1(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "select influencer_name, bio from influencers where handle = 'user6000'") == [
        ("José Müller", "café ½")
    ]


def check_special_numbers(con: duckdb.DuckDBPyConnection) -> None:
    # NaN is a missing value (documented null token): the row is clean, ER unknown.
    assert one(con, "select er from influencers where handle = 'user2500'") == [(None,)]


def write_parquet_numbers(path: Path) -> None:
    base = [reel_row(2600 + i) for i in range(4)]
    columns: dict[str, pa.Array] = {
        h: pa.array([str(r[j]) for r in base]) for j, h in enumerate(HEADER)
    }
    # Real floating-point specials, as a dataframe tool would write them.
    columns["ER"] = pa.array([2.5, math.nan, math.inf, 1e308], pa.float64())
    columns["Followers"] = pa.array([5000, 5001, 5002, -1], pa.int64())
    pq.write_table(pa.table(columns), path)


def several_sheets(path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Jan"
    for row in [HEADER, *rows_of(8000, [{}, {}])]:
        wb.active.append(row)
    feb = wb.create_sheet("Feb")
    for row in [HEADER, *rows_of(8100, [{}, {"Followers": "many"}])]:
        feb.append(row)
    wb.create_sheet("Empty")
    wb.create_sheet("Notes").append(["exported by hand"])
    wb.save(path)


def url_spellings(path: Path) -> None:
    spellings = [
        "https://www.instagram.com/dupuser/",
        "https://www.instagram.com/DupUser/",
        "http://instagram.com/dupuser",
        "https://m.instagram.com/dupuser/?hl=en",
        "www.instagram.com/dupuser#reels",
        " HTTPS://WWW.INSTAGRAM.COM/dupuser// ",
        # Exports keyed by handle: the same influencer.
        "dupuser",
        "@DupUser",
        "instagram.com/dupuser",
        "www.instagram.com/DupUser/",
    ]
    rows = [reel_row(4000 + i, URL=url) for i, url in enumerate(spellings)]
    # The same song again under another spelling: a duplicate of the first row.
    rows.append(reel_row(4000, URL="https://instagram.com/DUPUSER/?igshid=abc"))
    write_csv(path, [HEADER, *rows])
