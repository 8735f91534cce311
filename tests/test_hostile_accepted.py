"""Hostile input files the run accepts, generated here, run through the real `reelrec run`.

Each case builds: every bad row sits in `quarantined_reels` under the expected rule while
`source_file_audit` still accounts for every row read. The cases share one folder and one build
(load + dbt build, models not fitted: the Python models never see a row the cleaning rejected).
The files the run refuses are in tests/test_hostile_refused.py.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest

from models_py.cli.commands import main
from tests.files import HEADER, reel_row, write_xlsx
from tests.hostile_files import (
    CLEAN,
    EMOJI_NAME,
    FORMULA_TITLES,
    INJECTION_SONG,
    INJECTION_TITLE,
    INJECTION_URL,
    MULTILINE_BIO,
    RTL_BIO,
    Accepted,
    check_extra_columns_reported,
    check_header_row,
    check_huge_cells,
    check_injection_is_data,
    check_latin1,
    check_one_influencer_for_url_spellings,
    check_special_numbers,
    check_text_kept,
    one,
    rows_of,
    several_sheets,
    url_spellings,
    write_csv,
    write_parquet_numbers,
)
from tests.hostile_formats import FORMAT_CASES

pytestmark = pytest.mark.slow

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
        {**{(None, r): CLEAN for r in range(2, 12)}, (None, 12): "duplicate_url_song"},
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
        "huge_cell_csv_over_excel_limit",
        "huge_cell.csv",
        lambda p: write_csv(p, [HEADER, reel_row(9000, Bio="x" * 1_000_000)]),
        {(None, 2): "out_of_range"},
        check_huge_cells,
        warning="huge_cell.csv: 1 cell(s) longer than Excel's 32,767 characters (Bio in row 2)",
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
    *FORMAT_CASES,
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
        # Every model has a row saying why it was not fitted, none a fitted one; popularity,
        # judged beside them, is the default.
        fitted = "select method, is_default from model_runs where not_fitted_reason is null"
        assert one(con, fitted) == [("count", True)]
        reasons = one(
            con, "select distinct not_fitted_reason from model_runs where method <> 'count'"
        )
        assert len(reasons) == 1 and reasons[0][0].startswith("too few clean reels")


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
