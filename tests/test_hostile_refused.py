"""Hostile input files the run refuses, generated here, run through the real `reelrec run`.

Each case ends with exit 2 and one line naming the file and, where they exist, the column and
row: no traceback, nothing published. The files the run accepts are in
tests/test_hostile_accepted.py.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_py.cli.commands import main
from tests.files import HEADER, reel_row, write_xlsx
from tests.hostile_files import write_csv, xlsx_bytes
from tests.xlsx_craft import SHEET, craft, declare_size

pytestmark = pytest.mark.slow


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
        "zip_part_larger_than_its_header_says",
        lambda d: declare_size(craft(d / "liar.xlsx"), SHEET, 1000),
        ("liar.xlsx: part xl/worksheets/sheet1.xml expands past the 1,000 bytes",),
    ),
    Refused(
        "parquet_nested_column_with_a_known_name",
        lambda d: pq.write_table(
            pa.table({"Song": ["SO1"], "URL": [["https://www.instagram.com/a/"]]}),
            d / "nested.parquet",
        ),
        ("nested.parquet: column 'URL' is nested",),
    ),
    Refused(
        "utf16_csv_without_its_mark",
        lambda d: (d / "no_mark.csv").write_bytes("URL,Song\r\na,b\r\n".encode("utf-16-le")),
        ("no_mark.csv, line 1: a NUL byte",),
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
    # Nothing published, no half-built file, and the failed run removed its lock file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
