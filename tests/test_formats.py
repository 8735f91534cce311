"""File formats beyond the common spellings: csv in UTF-16/32 (found by the byte-order mark),
parquet durations and intervals (read as days), nested parquet columns (never matched by the
names of their fields), and long csv cells (cut like an xlsx's)."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_py.errors import ReelRecError
from models_py.ingest.load import load_folder
from tests.files import HEADER, reel_row


def load(folder: Path) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    con = duckdb.connect()
    report = load_folder(con, folder, {})
    return con, report.warnings


def csv_text(rows: list[list[object]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


NAMES = ["Zoë Ørsted 🎵", "Łukasz", "محمد"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-8"])
def test_csv_encoding_is_read_from_its_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode text" export is UTF-16 (little-endian) with a mark, tab-separated."""
    rows = [HEADER, *(reel_row(i, Name=n) for i, n in enumerate(NAMES))]
    bom = "\ufeff".encode(encoding)
    (tmp_path / "unicode.csv").write_bytes(bom + csv_text(rows, "\t").encode(encoding))
    con, warnings = load(tmp_path)
    assert [n for (n,) in con.execute('select "Name" from raw.reels').fetchall()] == NAMES
    assert warnings == []


def test_utf16_that_is_not_is_refused(tmp_path: Path) -> None:
    body = csv_text([HEADER, reel_row(1)]).encode("utf-16-le") + b"\x00\xdc"  # lone surrogate
    (tmp_path / "broken.csv").write_bytes(b"\xff\xfe" + body)
    with pytest.raises(ReelRecError, match="broken.csv: starts with a UTF-16 byte-order mark"):
        load(tmp_path)


def test_utf16_without_its_mark_is_refused_not_read_as_latin1(tmp_path: Path) -> None:
    (tmp_path / "nomark.csv").write_bytes(csv_text([HEADER, reel_row(1)]).encode("utf-16-le"))
    with pytest.raises(ReelRecError, match=r"nomark.csv, line 1: a NUL byte; is it UTF-16"):
        load(tmp_path)


def test_a_long_csv_cell_is_cut_and_named(tmp_path: Path) -> None:
    rows = [HEADER, reel_row(1), reel_row(2, Bio="b" * 100_000)]
    (tmp_path / "long.csv").write_text(csv_text(rows))
    con, warnings = load(tmp_path)
    assert con.execute('select length("Bio") from raw.reels order by 1').fetchall() == [
        (5,),
        (32_768,),
    ]
    assert any(
        "long.csv: 1 cell(s) longer than Excel's" in w and "Bio in row 3" in w for w in warnings
    )


def parquet(path: Path, **columns: pa.Array) -> None:
    base = [reel_row(1), reel_row(2)]
    table = {h: pa.array([str(r[j]) for r in base]) for j, h in enumerate(HEADER)}
    pq.write_table(pa.table({**table, **columns}), path)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_parquet_duration_is_read_as_days(tmp_path: Path, unit: str) -> None:
    durations = [datetime.timedelta(days=3), datetime.timedelta(hours=6)]
    parquet(tmp_path / "d.parquet", Time=pa.array(durations, pa.duration(unit)))
    con, _ = load(tmp_path)
    days = con.execute('select cast("Time" as double) from raw.reels order by source_row')
    assert days.fetchall() == [(3.0,), (0.25,)]


def test_a_parquet_interval_is_read_as_days(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(
        "copy (select 'SO1' as \"Song\", 'https://www.instagram.com/a/' as \"URL\", "
        'interval 3 day + interval 12 hour as "Time") to ?',
        [str(tmp_path / "i.parquet")],
    )
    loaded, _ = load(tmp_path)
    assert loaded.execute('select "Time" from raw.reels').fetchall() == [("3.5",)]


def test_a_nested_column_is_never_matched_by_its_fields(tmp_path: Path) -> None:
    urls = pa.array([{"URL": "https://www.instagram.com/a/"}] * 2)
    base = [reel_row(1), reel_row(2)]
    flat = {h: pa.array([str(r[j]) for r in base]) for j, h in enumerate(HEADER) if h != "URL"}
    pq.write_table(pa.table({**flat, "profile": urls}), tmp_path / "n.parquet")
    with pytest.raises(ReelRecError) as error:
        load(tmp_path)
    assert "n.parquet: required column 'URL' not found" in str(error.value)
    assert str(error.value).endswith("; nested columns are not read: profile")


@pytest.mark.parametrize(
    "column",
    [pa.array([["https://www.instagram.com/a/"]] * 2), pa.array([{"handle": "a"}] * 2)],
    ids=["list", "struct"],
)
def test_a_nested_column_by_a_known_name_is_refused_by_name(tmp_path: Path, column) -> None:
    parquet(tmp_path / "n.parquet", URL=column)
    with pytest.raises(
        ReelRecError, match=r"n.parquet: column 'URL' is nested \((VARCHAR\[\]|STRUCT)"
    ):
        load(tmp_path)
