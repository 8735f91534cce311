"""Property-based: any table of text, written as csv or xlsx, loads row for row, as written."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models_py.ingest.load import load_folder
from tests.files import HEADER, write_xlsx

# Text a scrape can hold: emoji, right-to-left scripts, quotes, separators, newlines, tabs.
# Excel cannot store control characters other than tab/newline, nor lone surrogates.
cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from(["\n", "\t", ";", ",", '"', "'", "ن", "ग", "🎵", "\u200f"]),
    max_size=12,
)
# A cell is blank, or holds text with something visible in it (blank-looking text is blank).
cell = st.one_of(st.none(), cell_text.filter(lambda s: s.strip() != ""))
rows = st.lists(st.lists(cell, min_size=len(HEADER), max_size=len(HEADER)), min_size=1, max_size=8)


# One in-memory database for every example: load_folder replaces its tables each time, and
# opening a database per example would cost more than the example itself.
CON = duckdb.connect()


def load_rows(folder: Path) -> list[tuple]:
    load_folder(CON, folder, {})
    columns = ", ".join(f'"{c}"' for c in HEADER)
    got = CON.execute(f"select source_row, {columns} from raw.reels order by 1").fetchall()
    # Row conservation as the audit sees it: rows read = rows loaded.
    assert CON.execute("select sum(rows_read) from raw.source_files").fetchall() == [(len(got),)]
    return got


def expected(table: list[list[str | None]], first_row: int) -> list[tuple]:
    """Rows blank in every cell are padding, not records; the rest keep their row number."""
    return [(first_row + i, *row) for i, row in enumerate(table) if any(v is not None for v in row)]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=rows)
def test_csv_round_trip_conserves_rows_and_values(table: list[list[str | None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (folder / "a.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows([["" if v is None else v for v in row] for row in table])
        if not expected(table, 2):
            return  # a file with no record is an error, tested elsewhere
        got = load_rows(folder)
        # csv rows are numbered by the line they start on; compare values and order.
        assert [r[1:] for r in got] == [r[1:] for r in expected(table, 2)]
        assert [r[0] for r in got] == sorted(r[0] for r in got)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=rows)
def test_xlsx_round_trip_conserves_rows_and_values(table: list[list[str | None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # A leading apostrophe-free formula-looking text would become a formula in openpyxl.
        safe = [[None if v is None else v.lstrip("=") or None for v in row] for row in table]
        write_xlsx(folder / "a.xlsx", [HEADER, *safe])
        if not expected(safe, 2):
            return
        assert load_rows(folder) == expected(safe, 2)
