"""A corpus of hostile inputs, generated here, each run through the real `reelrec run`.

Every case ends one of two ways: the run is refused (exit 2, one line naming the file and,
where they exist, the column and row, no traceback, nothing published), or it builds and each
bad row sits in `quarantined_reels` under the expected rule while `source_file_audit` still
accounts for every row read. Accepted cases share one folder and one build (load + dbt build,
models not fitted: the Python models never see a row the cleaning rejected).
"""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_py.cli.commands import main
from tests.files import HEADER, reel_row, write_xlsx

pytestmark = pytest.mark.slow

CLEAN = None  # expected rule of a row that passes every check


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


# --- accepted cases: one folder, one build ---------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """A file the run accepts; `rules` maps (sheet, row) to the expected rule (None: clean)."""

    id: str
    file: str
    write: Callable[[Path], object]
    rules: dict[tuple[str | None, int], str | None]
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    warning: str | None = None  # a substring the run must print about this file


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
    assert one(
        con,
        "select influencer_id, handle, songs_used from influencers where handle = 'dupuser'",
    ) == [("https://www.instagram.com/dupuser/", "dupuser", 6)]


def check_extra_columns_reported(con: duckdb.DuckDBPyConnection) -> None:
    assert one(
        con, "select ignored_columns from source_file_audit where source_file = 'extra_cols.xlsx'"
    ) == [("Notes, Unnamed extra",)]


def check_header_row(con: duckdb.DuckDBPyConnection) -> None:
    assert one(
        con, "select header_row from source_file_audit where source_file = 'title_block.xlsx'"
    ) == [(4,)]


def check_huge_cells(con: duckdb.DuckDBPyConnection) -> None:
    assert one(
        con,
        "select handle, length(bio) from influencers where handle in ('user9000', 'user9100') "
        "order by 1",
    ) == [("user9000", 1_000_000), ("user9100", 32_767)]


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
    ]
    rows = [reel_row(4000 + i, URL=url) for i, url in enumerate(spellings)]
    # The same song again under another spelling: a duplicate of the first row.
    rows.append(reel_row(4000, URL="https://instagram.com/DUPUSER/?igshid=abc"))
    write_csv(path, [HEADER, *rows])


ACCEPTED: list[Accepted] = [
    Accepted(
        "text_in_followers",
        "followers_text.xlsx",
        lambda p: write_xlsx(
            p, [HEADER, *rows_of(1000, [{"Followers": "lots"}, {"Followers": "12abc"}, {}])]
        ),
        {
            ("Sheet1", 2): "unparseable_number",
            ("Sheet1", 3): "unparseable_number",
            ("Sheet1", 4): CLEAN,
        },
    ),  # fmt: skip
    Accepted(
        "negative_and_zero_followers",
        "followers_not_positive.xlsx",
        lambda p: write_xlsx(
            p,
            [
                HEADER,
                *rows_of(1100, [{"Followers": -5}, {"Followers": 0}, {"Followers": "-1,000"}]),
            ],
        ),
        {
            ("Sheet1", 2): "out_of_range",
            ("Sheet1", 3): "out_of_range",
            ("Sheet1", 4): "out_of_range",
        },
    ),  # fmt: skip
    Accepted(
        "nan_inf_1e308_as_text",
        "special_numbers.csv",
        lambda p: write_csv(
            p,
            [
                HEADER,
                *rows_of(
                    2500,
                    [
                        {"ER": "NaN"},
                        {"ER": "inf"},
                        {"ER": "-Infinity"},
                        {"ER": "1e308"},
                        {"Curr_ER": "1e309"},
                        {"Followers": "1e308"},
                        {"Delta": "1e308"},
                        {"Delta": "-1e308"},
                        {"Likes": "1e30"},
                    ],
                ),
            ],
        ),
        # A count beyond 64 bits (1e308 followers, 1e30 likes) is no count: unparseable.
        {
            (None, 2): CLEAN,
            (None, 3): "unparseable_number",
            (None, 4): "unparseable_number",
            (None, 5): "er_over_max",
            (None, 6): "out_of_range",
            (None, 7): "unparseable_number",
            (None, 8): "out_of_range",
            (None, 9): "out_of_range",
            (None, 10): "unparseable_number",
        },
        check_special_numbers,
    ),  # fmt: skip
    Accepted(
        "nan_inf_1e308_as_parquet_doubles",
        "special_numbers.parquet",
        write_parquet_numbers,
        {
            (None, 1): CLEAN,
            (None, 2): CLEAN,
            (None, 3): "unparseable_number",
            (None, 4): "out_of_range",
        },
    ),  # fmt: skip
    Accepted(
        "emoji_rtl_newlines_tabs_in_name_and_bio",
        "text.xlsx",
        lambda p: write_xlsx(
            p,
            [
                HEADER,
                *rows_of(
                    3000,
                    [
                        {"Name": EMOJI_NAME},
                        {"Bio": RTL_BIO},
                        {"Name": "Name\twith tab", "Bio": MULTILINE_BIO},
                    ],
                ),
            ],
        ),
        {("Sheet1", 2): CLEAN, ("Sheet1", 3): CLEAN, ("Sheet1", 4): CLEAN},
        check_text_kept,
    ),  # fmt: skip
    Accepted(
        "formula_cells",
        "formulas.xlsx",
        lambda p: write_xlsx(
            p, [HEADER, *rows_of(3500, [{"Likes": "=A1*2"}, {"Followers": "=SUM(1,2)"}, {}])]
        ),
        {
            ("Sheet1", 2): "formula_without_value",
            ("Sheet1", 3): "formula_without_value",
            ("Sheet1", 4): CLEAN,
        },
        warning="formulas.xlsx, sheet 'Sheet1': 2 formula cell(s) have no saved value",
    ),  # fmt: skip
    Accepted(
        "url_case_query_trailing_slash",
        "url_spellings.csv",
        url_spellings,
        {**{(None, r): CLEAN for r in range(2, 8)}, (None, 8): "duplicate_url_song"},
        check_one_influencer_for_url_spellings,
    ),
    Accepted(
        "csv_with_bom_and_semicolons",
        "bom_semicolon.csv",
        lambda p: write_csv(p, [HEADER, *rows_of(5000, [{"Name": "Zoë"}, {}])], "utf-8-sig", ";"),
        {(None, 2): CLEAN, (None, 3): CLEAN},
    ),
    Accepted(
        "csv_in_latin1",
        "latin1.csv",
        lambda p: write_csv(
            p, [HEADER, *rows_of(6000, [{"Name": "José Müller", "Bio": "café ½"}])], "latin-1"
        ),
        {(None, 2): CLEAN},
        check_latin1,
        warning="latin1.csv: not UTF-8",
    ),
    Accepted(
        "csv_tab_separated",
        "tabs.csv",
        lambda p: write_csv(p, [HEADER, *rows_of(6100, [{}, {"Bio": "a;b,c|d"}])], "utf-8", "\t"),
        {(None, 2): CLEAN, (None, 3): CLEAN},
    ),
    Accepted(
        "extra_unknown_headers",
        "extra_cols.xlsx",
        lambda p: write_xlsx(
            p,
            [
                [*HEADER, "Notes", "Unnamed extra"],
                *[[*r, "note", 1] for r in rows_of(7000, [{}, {}])],
            ],
        ),
        {("Sheet1", 2): CLEAN, ("Sheet1", 3): CLEAN},
        check_extra_columns_reported,
    ),  # fmt: skip
    Accepted(
        "header_not_on_first_row",
        "title_block.xlsx",
        lambda p: write_xlsx(
            p, [["Influencer export"], ["generated 2024-01-01"], [], HEADER, *rows_of(7100, [{}])]
        ),
        {("Sheet1", 5): CLEAN},
        check_header_row,
    ),
    Accepted(
        "several_sheets_one_empty",
        "sheets.xlsx",
        several_sheets,
        {("Jan", 2): CLEAN, ("Jan", 3): CLEAN, ("Feb", 2): CLEAN, ("Feb", 3): "unparseable_number"},
        warning="sheets.xlsx, sheet 'Empty': the sheet is empty",
    ),  # fmt: skip
    Accepted(
        "duplicate_file_content_a",
        "copy_a.csv",
        lambda p: write_csv(p, [HEADER, *rows_of(7500, [{}, {}])]),
        {(None, 2): CLEAN, (None, 3): CLEAN},
    ),
    Accepted(
        "duplicate_file_content_b",
        "copy_b.csv",
        lambda p: write_csv(p, [HEADER, *rows_of(7500, [{}, {}])]),
        {(None, 2): "duplicate_url_song", (None, 3): "duplicate_url_song"},
    ),
    Accepted(
        "song_id_case_differs",
        "song_case.csv",
        lambda p: write_csv(
            p, [HEADER, reel_row(7600), reel_row(7600, Song=reel_row(7600)[0].lower())]
        ),
        {(None, 2): CLEAN, (None, 3): "duplicate_url_song"},
    ),
    Accepted(
        "blank_and_null_token_keys",
        "blank_keys.csv",
        lambda p: write_csv(
            p, [HEADER, *rows_of(7700, [{"URL": "   "}, {"Song": "n/a"}, {"URL": "-"}, {}])]
        ),
        {
            (None, 2): "missing_url_or_song",
            (None, 3): "missing_url_or_song",
            (None, 4): "missing_url_or_song",
            (None, 5): CLEAN,
        },
    ),  # fmt: skip
    Accepted(
        "huge_cell_csv",
        "huge_cell.csv",
        lambda p: write_csv(p, [HEADER, reel_row(9000, Bio="x" * 1_000_000)]),
        {(None, 2): CLEAN},
        check_huge_cells,
    ),
    Accepted(
        "huge_cell_xlsx_at_excel_limit",
        "huge_cell.xlsx",
        lambda p: write_xlsx(p, [HEADER, reel_row(9100, Bio="y" * 32_767)]),
        {("Sheet1", 2): CLEAN},
    ),
    Accepted(
        "sql_in_handles_song_ids_titles",
        "injection.csv",
        lambda p: write_csv(
            p,
            [
                HEADER,
                reel_row(
                    9200,
                    Song=INJECTION_SONG,
                    title=INJECTION_TITLE,
                    URL=INJECTION_URL,
                    Name='Bobby "Tables"; --',
                ),
            ],
        ),
        {(None, 2): CLEAN},
        check_injection_is_data,
    ),  # fmt: skip
    Accepted(
        "formula_like_song_titles",
        "formula_titles.csv",
        # High Curr_ER: these songs top the trending list, so exports must carry them.
        lambda p: write_csv(
            p, [HEADER, *rows_of(9400, [{"title": t, "Curr_ER": 50} for t in FORMULA_TITLES])]
        ),
        {(None, r): CLEAN for r in range(2, 2 + len(FORMULA_TITLES))},
    ),
    Accepted(
        "unicode_file_name",
        "données ☃.csv",
        lambda p: write_csv(p, [HEADER, reel_row(9300)]),
        {(None, 2): CLEAN},
    ),
]


@dataclass(frozen=True)
class Build:
    warehouse: Path
    output: list[str]  # stdout and stderr lines of the run


@pytest.fixture(scope="module")
def accepted_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One real `reelrec run` over every accepted case, as a user would start it."""
    folder = tmp_path_factory.mktemp("hostile_ok")
    for case in ACCEPTED:
        case.write(folder / case.file)
    warehouse = tmp_path_factory.mktemp("hostile_wh") / "warehouse.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "models_py.cli", "run", "--input", str(folder),
         "--warehouse", str(warehouse)],
        capture_output=True, text=True, check=False, cwd=warehouse.parent, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return Build(warehouse, (result.stdout + result.stderr).splitlines())


def test_small_input_builds_without_the_models(accepted_build: Build) -> None:
    """Too few clean reels to fit the models: the run says so and the SQL methods still rank."""
    assert any("too few clean reels to fit the models" in line for line in accepted_build.output)
    with duckdb.connect(str(accepted_build.warehouse), read_only=True) as con:
        methods = {m for (m,) in one(con, "select distinct method from recommendations")}
        assert "trending" in methods and "er_biased_mf" not in methods
        assert one(con, "select count(*) from model_runs") == [(0,)]


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.id)
def test_accepted_case_quarantines_with_the_rule(accepted_build: Build, case: Accepted) -> None:
    with duckdb.connect(str(accepted_build.warehouse), read_only=True) as con:
        clean = one(
            con, "select source_sheet, source_row from reels where source_file = ?", [case.file]
        )
        quarantined = one(
            con,
            "select source_sheet, source_row, rejection_rule from quarantined_reels "
            "where source_file = ?",
            [case.file],
        )
        got = {(s, r): CLEAN for s, r in clean} | {(s, r): rule for s, r, rule in quarantined}
        assert got == case.rules
        # Row conservation, per file and sheet: read = clean + quarantined, nothing else.
        audit = one(
            con,
            "select sum(rows_read), sum(rows_clean), sum(rows_quarantined) "
            "from source_file_audit where source_file = ?",
            [case.file],
        )
        assert audit == [(len(case.rules), len(clean), len(quarantined))]
        if case.check:
            case.check(con)
    if case.warning:
        assert any(case.warning in line for line in accepted_build.output), accepted_build.output


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_exported_titles_cannot_run_as_formulas(
    accepted_build: Build, tmp_path: Path, suffix: str, capsys
) -> None:
    out = tmp_path / f"picks{suffix}"
    wh = str(accepted_build.warehouse)
    code = main(
        ["recommend", "user7100", "--method", "trending", "--warehouse", wh, "--output", str(out)]
    )
    assert code == 0 and f"rows to {out}" in capsys.readouterr().out
    if suffix == ".csv":
        with out.open(encoding="utf-8-sig", newline="") as fh:
            body = list(csv.reader(fh, quoting=csv.QUOTE_NONNUMERIC))[1:]
    else:
        body = [list(r) for r in openpyxl.load_workbook(out).active.iter_rows(2, values_only=True)]
    titles, scores = [r[2] for r in body], [r[4] for r in body]
    assert {"'" + t for t in FORMULA_TITLES} <= set(titles)
    assert not any(t.startswith(("=", "+", "-", "@")) for t in titles)
    assert all(isinstance(v, float) for v in scores)


# --- refused cases: exit 2 with file, column and row named ----------------------------------


@dataclass(frozen=True)
class Refused:
    id: str
    write: Callable[[Path], object]  # writes into the input folder
    expect: tuple[str, ...]  # substrings of the one-line error: file, column, row


def truncated_xlsx(folder: Path) -> None:
    data = xlsx_bytes([HEADER, reel_row(1)])
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])


def corrupt_sheet_xml(folder: Path) -> None:
    """A valid zip whose worksheet XML is cut off mid-tag."""
    data = xlsx_bytes([HEADER, reel_row(1), reel_row(2)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body[: len(body) // 2]
            dst.writestr(item, body)
    (folder / "bad_xml.xlsx").write_bytes(out.getvalue())


def too_many_rows(folder: Path) -> None:
    """A sheet that claims a row past Excel's 1,048,576: not a valid workbook."""
    data = xlsx_bytes([HEADER, reel_row(1)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                extra = (
                    b'<row r="1048577"><c r="A1048577" t="inlineStr"><is><t>x</t></is></c></row>'
                )
                body = body.replace(b"</sheetData>", extra + b"</sheetData>")
            dst.writestr(item, body)
    (folder / "too_long.xlsx").write_bytes(out.getvalue())


def unterminated_quote(folder: Path) -> None:
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, reel_row(1), reel_row(2)])
    lines = text.getvalue().splitlines(keepends=True)
    # A Bio opening a quote it never closes would swallow every later row into one cell.
    lines[2] = lines[2].replace("bio 🎵", '"bio 🎵', 1)
    (folder / "quote.csv").write_text("".join([*lines, *lines[1:2]]))


def parquet_without_song(folder: Path) -> None:
    pq.write_table(pa.table({"URL": ["https://www.instagram.com/a/"]}), folder / "no_song.parquet")


OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and old .xls files start so

REFUSED: list[Refused] = [
    Refused("truncated_xlsx", truncated_xlsx, ("truncated.xlsx: cannot read as an Excel",)),
    Refused(
        "random_bytes_xlsx",
        lambda d: (d / "noise.xlsx").write_bytes(bytes(range(256)) * 8),
        ("noise.xlsx: cannot read as an Excel",),
    ),
    Refused("corrupt_sheet_xml", corrupt_sheet_xml, ("bad_xml.xlsx",)),
    Refused(
        "csv_saved_as_xlsx",
        lambda d: write_csv(d / "really_csv.xlsx", [HEADER, reel_row(1)]),
        ("really_csv.xlsx: cannot read as an Excel", "not really .xlsx"),
    ),
    Refused(
        "encrypted_looking_xlsx",
        lambda d: (d / "locked.xlsx").write_bytes(OLE2_MAGIC + bytes(4096)),
        ("locked.xlsx: the workbook is password-protected",),
    ),
    Refused(
        "zero_byte_xlsx",
        lambda d: (d / "empty.xlsx").write_bytes(b""),
        ("empty.xlsx: cannot read as an Excel",),
    ),
    Refused(
        "zero_byte_csv",
        lambda d: (d / "empty.csv").write_bytes(b""),
        ("empty.csv: the file is empty",),
    ),
    Refused(
        "missing_required_column",
        lambda d: write_xlsx(
            d / "no_url.xlsx",
            [
                [h for h in HEADER if h != "URL"],
                [v for h, v in zip(HEADER, reel_row(1), strict=True) if h != "URL"],
            ],
        ),
        ("no_url.xlsx, sheet 'Sheet1'", "row 1", "required column 'URL' not found"),
    ),  # fmt: skip
    Refused(
        "missing_required_column_csv",
        lambda d: write_csv(d / "no_song.csv", [[h for h in HEADER if h != "Song"], ["x"] * 16]),
        ("no_song.csv", "row 1", "required column 'Song' not found"),
    ),
    Refused(
        "duplicate_headers",
        lambda d: write_xlsx(d / "dup_header.xlsx", [[*HEADER, "followers"], [*reel_row(1), 5]]),
        (
            "dup_header.xlsx, sheet 'Sheet1', row 1",
            "column 'Followers' appears twice",
            "column 4",
            "column 18",
        ),
    ),  # fmt: skip
    Refused(
        "header_row_only",
        lambda d: write_xlsx(d / "header_only.xlsx", [HEADER]),
        ("header_only.xlsx, sheet 'Sheet1'", "header found on row 1 but no data rows"),
    ),
    Refused(
        "header_row_only_csv",
        lambda d: write_csv(d / "header_only.csv", [HEADER]),
        ("header_only.csv", "header found on row 1 but no data rows"),
    ),
    Refused(
        "only_an_empty_sheet",
        lambda d: write_xlsx(d / "blank.xlsx", []),
        ("blank.xlsx, sheet 'Sheet1': the sheet is empty",),
    ),
    Refused(
        "unterminated_quote_csv",
        unterminated_quote,
        ("quote.csv, line 3", "column 'Bio'", "never closed"),
    ),
    Refused("xlsx_over_excel_row_limit", too_many_rows, ("too_long.xlsx", "Excel's limit")),
    Refused(
        "corrupt_parquet",
        lambda d: (d / "bad.parquet").write_bytes(b"PAR1" + bytes(64)),
        ("bad.parquet: cannot read as parquet",),
    ),
    Refused(
        "parquet_missing_required_column",
        parquet_without_song,
        ("no_song.parquet", "required column 'Song' not found"),
    ),
    Refused(
        "no_input_files",
        lambda d: (d / "notes.txt").write_text("hello"),
        ("no input files in",),
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.id)
def test_refused_case_is_one_clear_line(
    case: Refused, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # an internal error would leave reelrec-error.log here
    folder = tmp_path / "in"
    folder.mkdir()
    case.write(folder)
    warehouse = tmp_path / "warehouse.duckdb"
    code = main(["run", "--input", str(folder), "--warehouse", str(warehouse)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("reelrec: error: ") and err.count("\n") == 1, err
    for part in case.expect:
        assert part in err, err
    assert "Traceback" not in err
    # Nothing published and no half-built file; the lock file is reused by the next run.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "warehouse.duckdb.lock"]
