"""Exports to .csv and .xlsx: formula-looking text is escaped, numbers stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from models_py.cli.export import XLSX_MAX_ROWS, escape_cell, write_table
from models_py.errors import ReelRecError

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["Saudade Meri", "1+1=2", "a=b", "", "'already quoted", "🎵 song"]


def test_escape_cell() -> None:
    assert [escape_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [escape_cell(v) for v in HARMLESS] == HARMLESS
    assert [escape_cell(v) for v in (-1.5, -3, 0, None)] == [-1.5, -3, 0, None]


def rows() -> list[tuple]:
    return [(i + 1, title, -1.5 * i) for i, title in enumerate(HOSTILE + HARMLESS)]


def test_csv_escapes_text_and_keeps_numbers(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert write_table(path, ("rank", "title", "score"), rows()) == len(rows())
    with path.open(encoding="utf-8-sig", newline="") as fh:
        back = list(csv.reader(fh, quoting=csv.QUOTE_NONNUMERIC))
    assert back[0] == ["rank", "title", "score"]
    assert [r[1] for r in back[1:]] == ["'" + v for v in HOSTILE] + HARMLESS
    # Unquoted in the file, so read back as numbers: a negative score is not text.
    assert [r[2] for r in back[1:]] == [r[2] for r in rows()]
    assert "\n-1.5" not in path.read_text(encoding="utf-8-sig")  # no line starts with a bare -


def test_xlsx_escapes_text_and_keeps_numbers(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_table(path, ("rank", "title", "score"), [*rows(), (99, "bell\x07", None)])
    sheet = openpyxl.load_workbook(path).active
    cells = list(sheet.iter_rows(min_row=2))
    assert {c[1].data_type for c in cells if c[1].value is not None} == {"s"}  # no formula
    # XML turns a carriage return into a newline; the quote still leads.
    escaped = ["'" + v.replace("\r", "\n") for v in HOSTILE]
    assert [c[1].value for c in cells[: len(HOSTILE)]] == escaped
    assert [c[2].value for c in cells[:-1]] == [r[2] for r in rows()]
    assert all(c[2].data_type == "n" for c in cells[:-1])
    assert cells[-1][1].value == "bell\ufffd"  # xlsx cannot store control characters


def test_xlsx_over_excel_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    too_many = [("x",)] * XLSX_MAX_ROWS  # with the header, one row too many
    with pytest.raises(ReelRecError, match=r"do not fit in an Excel sheet.*write \.csv instead"):
        write_table(path, ("title",), too_many)
    assert not path.exists()


@pytest.mark.parametrize("name", ["out.json", "out", "missing_dir/out.csv"])
def test_bad_output_path_is_a_clear_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReelRecError, match="--output"):
        write_table(tmp_path / name, ("title",), [("x",)])
