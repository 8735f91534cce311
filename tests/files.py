"""Small input files for loader tests, written the way users' tools write them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import openpyxl

from models_py.contract import RAW_COLUMNS

HEADER = list(RAW_COLUMNS)


def reel_row(i: int, **overrides: object) -> list[object]:
    """A plausible, clean data row; `overrides` replace named columns."""
    row: dict[str, object] = {
        "Song": f"SOTEST{i:012d}",
        "use_count": 1 + i % 3,
        "Name": f"Person {i}",
        "Followers": 5000 + i,
        "Posts": 300,
        "Bio": "bio 🎵",
        "URL": f"https://www.instagram.com/user{i}/",
        "ER": 2.5,
        "title": f"Song {i}",
        "release": "Album",
        "artist_name": "Artist",
        "year": 2001,
        "Delta": 0.5,
        "Curr_ER": 3.0,
        "Comments": 10,
        "Likes": 140,
        "Time": "3d",
    }
    row.update(overrides)
    return [row[h] for h in HEADER]


def write_xlsx(
    path: Path, rows: Sequence[Sequence[object]], sheets: dict[str, Sequence] | None = None
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in rows:
        ws.append(list(row))
    for name, extra in (sheets or {}).items():
        other = wb.create_sheet(name)
        for row in extra:
            other.append(list(row))
    wb.save(path)
    return path
