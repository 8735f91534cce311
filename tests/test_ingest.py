"""The loader: every file and row into raw, with clear errors for bad input."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_py import pipeline
from models_py.cli.commands import main
from models_py.errors import ReelRecError
from models_py.ingest.columns import parse_column_map
from models_py.ingest.load import load_folder
from tests.files import HEADER, reel_row, write_xlsx


def load(folder: Path, column_map: str | list[str] | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_folder(con, folder, parse_column_map(column_map))
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_values_kept_as_written_with_file_and_row(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "a.xlsx",
        [HEADER, reel_row(1, Followers="157,186", ER="0.70%"), [], reel_row(2, Posts=348)],
    )
    con = load(tmp_path)
    got = rows(
        con,
        'select source_file, source_sheet, source_row, "Followers", "ER", "Posts" '
        "from raw.reels order by source_row",
    )
    # Row 3 is blank padding: not a record, but numbering still matches Excel.
    assert got == [
        ("a.xlsx", "Sheet1", 2, "157,186", "0.70%", "300"),
        ("a.xlsx", "Sheet1", 4, "5002", "2.5", "348"),
    ]
    assert rows(con, "select rows_read, header_row from raw.source_files") == [(2, 1)]


def test_headers_match_case_and_space_insensitively(tmp_path: Path) -> None:
    header = [h.upper().replace("_", " ") for h in HEADER]
    header[0] = "  song "
    write_xlsx(tmp_path / "a.xlsx", [header, reel_row(1)])
    con = load(tmp_path)
    assert rows(con, 'select "Song", use_count, artist_name from raw.reels') == [
        ("SOTEST000000000001", "2", "Artist")
    ]


def test_column_map_renames_user_headers(tmp_path: Path) -> None:
    header = ["track_id" if h == "Song" else "profile" if h == "URL" else h for h in HEADER]
    write_xlsx(tmp_path / "a.xlsx", [header, reel_row(1)])
    con = load(tmp_path, "Song=track_id,URL=profile")
    assert rows(con, 'select "Song", "URL" from raw.reels') == [
        ("SOTEST000000000001", "https://www.instagram.com/user1/")
    ]
    mapping = rows(con, "select column_mapping from raw.source_files")[0][0]
    assert "Song<-track_id" in mapping and "URL<-profile" in mapping


def test_missing_optional_column_is_null_and_reported(tmp_path: Path) -> None:
    keep = [i for i, h in enumerate(HEADER) if h not in ("Time", "Bio")]
    write_xlsx(tmp_path / "a.xlsx", [[HEADER[i] for i in keep], [reel_row(1)[i] for i in keep]])
    con = duckdb.connect()
    report = load_folder(con, tmp_path, {})
    assert rows(con, 'select "Time", "Bio" from raw.reels') == [(None, None)]
    assert any("Bio, Time" in w for w in report.warnings)


def test_header_below_a_title_block(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "a.xlsx", [["Influencer export"], [], HEADER, reel_row(1)])
    con = load(tmp_path)
    assert rows(con, "select source_row from raw.reels") == [(4,)]
    assert rows(con, "select header_row from raw.source_files") == [(3,)]


def test_every_sheet_with_the_columns_is_read(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "a.xlsx",
        [HEADER, reel_row(1)],
        sheets={"More": [HEADER, reel_row(2), reel_row(3)], "Notes": [["just notes"]]},
    )
    con = duckdb.connect()
    report = load_folder(con, tmp_path, {})
    assert rows(con, "select source_sheet, count(*) from raw.reels group by 1 order by 1") == [
        ("More", 2),
        ("Sheet1", 1),
    ]
    assert any("Notes" in w for w in report.warnings)


def test_formula_without_saved_value_is_detected(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "a.xlsx", [HEADER, reel_row(1), reel_row(2, Likes="=A1*2")])
    con = duckdb.connect()
    report = load_folder(con, tmp_path, {})
    assert rows(con, "select source_row, lost_cells from raw.reels order by 1") == [
        (2, None),
        (3, "Likes"),
    ]
    assert any("Likes@P3" in w for w in report.warnings)


def test_error_cells_keep_their_text(tmp_path: Path) -> None:
    """openpyxl stores "#VALUE!" as an Excel error cell, which readers return as empty."""
    write_xlsx(tmp_path / "a.xlsx", [HEADER, reel_row(1, Likes="#VALUE!", Comments="#N/A")])
    con = load(tmp_path)
    assert rows(con, 'select "Likes", "Comments" from raw.reels') == [("#VALUE!", "#N/A")]


def test_csv_with_bom_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(HEADER)
        writer.writerow(reel_row(1, Bio="line one\nline two"))
        writer.writerow(reel_row(2, Name="Zoë"))
    con = load(tmp_path)
    # Records start on lines 2 and 4: the first spans two lines.
    assert rows(con, 'select source_row, "Song", "Name" from raw.reels order by 1') == [
        (2, "SOTEST000000000001", "Person 1"),
        (4, "SOTEST000000000002", "Zoë"),
    ]


def test_latin1_csv_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    with path.open("w", encoding="latin-1", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(reel_row(1, Name="José", Bio="café"))
    con = duckdb.connect()
    report = load_folder(con, tmp_path, {})
    assert rows(con, 'select "Name" from raw.reels') == [("José",)]
    assert any("not UTF-8" in w for w in report.warnings)


def test_parquet_is_loaded_with_row_numbers(tmp_path: Path) -> None:
    table = pa.table(
        {
            h: [str(v) for v in col]
            for h, col in zip(HEADER, zip(reel_row(1), reel_row(2), strict=True), strict=True)
        }
    )
    pq.write_table(table, tmp_path / "part-1.parquet")
    con = load(tmp_path)
    assert rows(con, 'select source_row, "Song" from raw.reels order by 1') == [
        (1, "SOTEST000000000001"),
        (2, "SOTEST000000000002"),
    ]


def test_files_load_in_name_order_and_all_rows_counted(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "b.xlsx", [HEADER, reel_row(1)])
    write_xlsx(tmp_path / "a.xlsx", [HEADER, reel_row(2), reel_row(3)])
    (tmp_path / "notes.txt").write_text("ignored")
    con = load(tmp_path)
    assert rows(con, "select source_file, rows_read from raw.source_files order by 1") == [
        ("a.xlsx", 2),
        ("b.xlsx", 1),
    ]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "no input files in"),
        (lambda d: (d / "a.xlsx").write_bytes(b"PK\x03\x04 truncated"), "a.xlsx: cannot read"),
        (lambda d: (d / "a.xlsx").write_text("not a workbook"), "a.xlsx: cannot read"),
        (lambda d: (d / "a.csv").write_text(""), "a.csv: the file is empty"),
        (lambda d: (d / "a.parquet").write_bytes(b"PAR1junk"), "a.parquet: cannot read"),
        (lambda d: write_xlsx(d / "a.xlsx", [HEADER]), "a.xlsx, sheet 'Sheet1': header found"),
        (lambda d: write_xlsx(d / "a.xlsx", []), "a.xlsx, sheet 'Sheet1': the sheet is empty"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, setup, message: str) -> None:
    setup(tmp_path)
    with pytest.raises(ReelRecError, match=message.replace("(", r"\(")):
        load(tmp_path)


def test_missing_required_column_names_file_column_and_found(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "URL"]
    write_xlsx(tmp_path / "data1.xlsx", [header, reel_row(1)[: len(header)]])
    with pytest.raises(ReelRecError) as err:
        load(tmp_path)
    text = str(err.value)
    assert "data1.xlsx" in text and "'URL'" in text and "columns found: Song, use_count" in text
    assert "--map URL=" in text


def test_duplicate_header_names_both(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "a.xlsx", [[*HEADER, "song"], [*reel_row(1), "x"]])
    with pytest.raises(ReelRecError, match="'Song' appears twice .*'Song'.* and 'song'"):
        load(tmp_path)


def test_bad_map_syntax_is_rejected() -> None:
    with pytest.raises(ReelRecError, match="not of the form"):
        parse_column_map("Song")
    with pytest.raises(ReelRecError, match="Song is mapped twice"):
        parse_column_map(["Song=a", "song=b"])


def test_map_is_repeatable_and_takes_comma_lists(tmp_path: Path, monkeypatch) -> None:
    """The form the missing-column message suggests (`--map URL=x --map Song=y`) maps both."""
    header = ["track_id" if h == "Song" else "profile" if h == "URL" else h for h in HEADER]
    write_xlsx(tmp_path / "a.xlsx", [header, reel_row(1)])
    for spec in (["Song=track_id", "URL=profile"], ["Song=track_id,URL=profile"]):
        con = load(tmp_path, spec)
        assert rows(con, 'select "Song", "URL" from raw.reels') == [
            ("SOTEST000000000001", "https://www.instagram.com/user1/")
        ]
    seen = {}

    def fake_run(**kwargs: object) -> None:
        seen.update(kwargs)
        raise ReelRecError("stop here")

    monkeypatch.setattr(pipeline, "run", fake_run)
    main(["run", "--input", str(tmp_path), "--map", "Song=track_id", "--map", "url=profile,Name=n"])
    assert seen["column_map"] == {"Song": "track_id", "URL": "profile", "Name": "n"}


@pytest.mark.parametrize(
    "spec, problem",
    [
        (["Track=track_id", "URL=profile"], "'Track' is not a ReelRec column"),
        (["Song=track_id", "URL=profil"], "URL=profil: the file has no column 'profil'"),
        (["Song=track_id", "URL=profile", "Likes=hearts"], "the file has no column 'hearts'"),
        (["Song=track_id", "URL=profile", "Name=profile"], "'profile' is mapped to URL and Name"),
    ],
)
def test_bad_map_names_the_files_columns_and_the_targets(
    tmp_path: Path, spec: list[str], problem: str
) -> None:
    header = ["track_id" if h == "Song" else "profile" if h == "URL" else h for h in HEADER]
    write_xlsx(tmp_path / "a.xlsx", [header, reel_row(1)])
    write_csv_file = tmp_path / "b.csv"
    with write_csv_file.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, reel_row(2)])
    pq.write_table(pa.table({h: [str(v)] for h, v in zip(header, reel_row(3), strict=True)}),
                   tmp_path / "c.parquet")  # fmt: skip
    for name in ("a.xlsx", "b.csv", "c.parquet"):
        alone = tmp_path / name.split(".")[0]
        alone.mkdir()
        (tmp_path / name).rename(alone / name)
        with pytest.raises(ReelRecError) as err:
            load(alone, spec)
        text = str(err.value)
        assert text.startswith(name) and problem in text, text
        assert "The file's columns: track_id, use_count, Name" in text, text
        assert "ReelRec's columns: Song, use_count, Name" in text, text


def test_cli_error_has_exit_code_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "models_py.cli", "run", "--input", str(tmp_path),
         "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "reelrec: error: no input files in" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "w.duckdb").exists()
