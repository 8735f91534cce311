"""What the xlsx checks let through, cut or refuse, read in this process (files that could
exhaust memory are read under a limit in tests/test_xlsx_memory.py).

Texts over Excel's 32,767 characters reach the table as their first 32,768, wherever the
workbook keeps them; sheets the substring searches cannot vouch for are parsed exactly and
read the same as their plain spelling; zip headers are held to the bytes they describe.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from models_py.errors import ReelRecError
from models_py.ingest import xlsx_zip
from models_py.ingest.readers import read_xlsx
from tests.files import HEADER, reel_row
from tests.xlsx_craft import (
    PLACEHOLDER,
    SHEET,
    STRINGS,
    add_row,
    craft,
    declare_size,
    inline,
    one_long_string,
    prefixed,
    shared_strings,
    without_references,
)

LIMIT = 32_767


def read(path: Path) -> tuple[pa.Table, list[str]]:
    (sheet,) = read_xlsx(path, {}, path.name)
    return sheet.table, sheet.warnings


def bios(table: pa.Table) -> list[str | None]:
    return table["Bio"].to_pylist()


RICH_RUN = b'<r><rPr><color rgb="FFFF0000"/></rPr><t>' + b"r" * 30_000 + b"</t></r>"
LONG_STRINGS = {
    # 40,000 characters written as 200,000 bytes of entities.
    "entities": shared_strings(b"<si><t>" + b"&amp;" * 40_000 + b"</t></si>"),
    # 3 MB of two-byte characters: past the 1 MiB the searches let through, so it is cut
    # before calamine reads it.
    "past_the_span": one_long_string(1_500_000, block="é".encode() * 8192),
    # 100 formatted runs of 30,000: each under the limit, the string far over it.
    "rich_runs": shared_strings(b"<si>" + RICH_RUN * 100 + b"</si>"),
}


@pytest.mark.parametrize("strings", LONG_STRINGS.values(), ids=LONG_STRINGS.keys())
def test_a_long_shared_string_is_cut_and_its_row_named(tmp_path: Path, strings) -> None:
    table, warnings = read(craft(tmp_path / "long.xlsx", strings=strings))
    assert [len(b) for b in bios(table)] == [LIMIT + 1, 5, 5]
    assert table["Song"].to_pylist() == [reel_row(i)[0] for i in (1, 2, 3)]
    assert warnings == [
        "long.xlsx, sheet 'Sheet': 1 cell(s) longer than Excel's 32,767 characters (Bio in "
        "row 2) were cut to 32,768; their rows are quarantined as out_of_range"
    ]


LONG_CELLS = {
    "inline_text": inline("F5", "z" * 3_000_000),
    "number": '<c r="D5"><v>' + "1" * 3_000_000 + "</v></c>",
    "formula_and_value": '<c r="F5"><f>' + "A1+" * 1_000_000 + "</f><v>fine</v></c>",
}


@pytest.mark.parametrize("cell", LONG_CELLS.values(), ids=LONG_CELLS.keys())
def test_a_long_cell_in_the_sheet_is_cut_in_place(tmp_path: Path, cell: str) -> None:
    row = inline("A5", "SO5") + cell + inline("G5", "https://www.instagram.com/u5/")
    table, warnings = read(craft(tmp_path / "cell.xlsx", sheet=lambda x: add_row(x, 5, row)))
    got = table.slice(3).to_pylist()[0]
    assert (got["Song"], got["URL"]) == ("SO5", "https://www.instagram.com/u5/")
    if "<f>" in cell:  # a long formula is no value: the saved value is read as it is
        assert got["Bio"] == "fine" and not warnings
    else:
        value = got["Bio"] if "F5" in cell else got["Followers"]
        assert value in ("z" * (LIMIT + 1), "1" * (LIMIT + 1))
        assert len(warnings) == 1 and "in row 5" in warnings[0]


@pytest.mark.parametrize("spelling", [without_references, prefixed], ids=lambda f: f.__name__)
def test_other_spellings_of_a_sheet_read_the_same(tmp_path: Path, spelling) -> None:
    rows = [HEADER, *(reel_row(i, Followers=f"{i},000") for i in range(1, 40))]
    plain, _ = read(craft(tmp_path / "plain.xlsx", rows))
    other, _ = read(craft(tmp_path / "other.xlsx", rows, sheet=spelling))
    assert other.equals(plain)


def test_a_cut_copy_keeps_every_other_cell(tmp_path: Path) -> None:
    rows = [
        HEADER,
        reel_row(1, Bio=PLACEHOLDER),
        *(reel_row(i, Name="Zoë & <b>") for i in range(2, 300)),
    ]
    plain, _ = read(
        craft(tmp_path / "plain.xlsx", rows, strings=shared_strings(b"<si><t>b</t></si>"))
    )
    cut, _ = read(craft(tmp_path / "cut.xlsx", rows, strings=one_long_string(3_000_000)))
    assert cut.slice(1).equals(plain.slice(1)) and bios(cut)[0] == "x" * (LIMIT + 1)


def test_an_empty_formatted_cell_far_away_is_not_a_used_cell(tmp_path: Path) -> None:
    """calamine skips cells without a value, so a formatted XFD30000 costs nothing."""
    far = lambda x: add_row(x, 30000, '<c r="XFD30000" s="0"/>')  # noqa: E731
    table, _ = read(craft(tmp_path / "styled.xlsx", sheet=far))
    assert table.num_rows == 3


def test_a_zip_part_larger_than_its_header_says_is_refused(tmp_path: Path) -> None:
    path = craft(tmp_path / "liar.xlsx")
    declare_size(path, SHEET, 1000)
    with pytest.raises(ReelRecError, match=re.escape(f"liar.xlsx: part {SHEET} expands past")):
        read(path)


def test_a_workbook_over_the_xml_cap_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_zip, "XLSX_MAX_XML_BYTES", 100_000)
    path = craft(tmp_path / "big.xlsx", strings=one_long_string(200_000))
    with pytest.raises(ReelRecError, match="big.xlsx: the workbook expands to .* bytes of XML"):
        read(path)


def test_a_small_part_over_its_cap_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_zip, "XLSX_MAX_PART_BYTES", 100)
    with pytest.raises(ReelRecError, match="styles.xlsx: part .* expands to .* more than the 100 "):
        read(craft(tmp_path / "styles.xlsx"))


UNBOUNDED = {
    # Entities a DTD defines can expand a few bytes into gigabytes.
    "dtd": (
        [b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>', *shared_strings(b"<si><t>&a;</t></si>")],
        f"{STRINGS}: a DTD",
    ),
    # A tag is parsed whole: one 5 MB attribute would be held at once.
    "long_tag": (
        shared_strings(b'<si><t x="' + b"a" * 10_000_000 + b'">b</t></si>'),
        f"{STRINGS}: one XML tag or comment runs past 4,194,304 bytes",
    ),
    # Every open element costs the parser memory (the comment sends the part to the parser).
    "deep": (
        shared_strings(b"<!-- by hand --><si>" + b"<r>" * 300 + b"</r>" * 300 + b"</si>"),
        f"{STRINGS}: XML nested over 256 elements deep",
    ),
}


@pytest.mark.parametrize("strings, message", UNBOUNDED.values(), ids=UNBOUNDED.keys())
def test_xml_the_parser_would_hold_without_bound_is_refused(
    tmp_path: Path, strings: list[bytes], message: str
) -> None:
    with pytest.raises(ReelRecError, match=re.escape(f"odd.xlsx, {message}")):
        read(craft(tmp_path / "odd.xlsx", strings=strings))
