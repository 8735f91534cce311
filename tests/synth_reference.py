"""An independent reference reader and cleaner for the generator's tests.

It reads the raw files with openpyxl/pyarrow and applies the spec's cleaning rules itself (not
the generator's bookkeeping, nor the pipeline's SQL), so a mislabelled truth row or a dirt kind
that does not parse the way the spec says fails a test. Only the thresholds come from the
contract.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq

from models_py.contract import RAW_COLUMNS, project_var
from models_py.synth.generate import generate

MAX_POSTS, MAX_ER = project_var("max_posts"), project_var("max_er")
NUMERIC = ["use_count", "Followers", "Posts", "ER", "Delta", "Curr_ER", "Comments", "Likes", "Time"]
NULLS = {"", "na", "n/a", "null", "none", "-", "nan"}
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
URL = re.compile(r"https?://(?:www\.)?instagram\.com/([A-Za-z0-9._]+)/?(?:\?.*)?", re.IGNORECASE)


class Junk(ValueError):
    pass


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in NULLS)


def parse(value: Any, col: str) -> float | None:
    """A cell as the loader must read it: numbers, "157,186", "0.70%", "3.3k", "2w", " 12 "."""
    if is_blank(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().replace(",", "")
    if col == "ER" and text.endswith("%"):
        text = text[:-1]
    if col == "Followers" and re.fullmatch(r"\d+(\.\d)?[km]", text):
        # A whole count, as the whole_count macro rounds it ("32.7k" is 32700.000000000004).
        return float(round(float(text[:-1]) * (1_000 if text[-1] == "k" else 1_000_000)))
    if col == "Time" and re.fullmatch(r"\d+[dw]", text):
        return float(text[:-1]) * (7 if text[-1] == "w" else 1)
    if not NUMBER.fullmatch(text):
        raise Junk(value)
    return float(text)


def canonical_url(url: str) -> str:
    match = URL.fullmatch(url.strip())
    assert match, url
    return f"https://www.instagram.com/{match.group(1).lower()}/"


def reference_rules(rows: list[dict[str, Any]]) -> list[str | None]:
    """The spec's cleaning rules, first failing rule wins, duplicates by canonical (URL, Song)."""
    seen: set[tuple[str, str]] = set()
    out: list[str | None] = []
    for row in rows:
        if is_blank(row["URL"]) or is_blank(row["Song"]):
            out.append("missing_url_or_song")
            continue
        try:
            num = {c: parse(row[c], c) for c in NUMERIC}
        except Junk:
            out.append("unparseable_number")
            continue
        if num["Posts"] > MAX_POSTS:
            out.append("posts_over_max")
        elif num["ER"] > MAX_ER:
            out.append("er_over_max")
        elif num["use_count"] > num["Posts"]:
            out.append("use_count_over_posts")
        elif (key := (canonical_url(row["URL"]), row["Song"].strip())) in seen:
            out.append("duplicate_url_song")
        else:
            seen.add(key)
            out.append(None)
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def detect_dirt(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Rows showing each kind of dirt that is visible in the cells themselves."""
    seen: set[tuple[str, str]] = set()
    found = dict.fromkeys(
        ["duplicate_url_song", "er_percent", "thousands_sep", "followers_abbrev", "time_text"]
        + ["url_variant", "padded", "blank_likes_comments", "blank_time", "blank_delta"]
        + ["missing_url_or_song"],
        0,
    )
    for r in rows:
        if is_blank(r["URL"]) or is_blank(r["Song"]):
            found["missing_url_or_song"] += 1
        else:
            key = (canonical_url(r["URL"]), r["Song"])
            found["duplicate_url_song"] += key in seen
            seen.add(key)
            found["url_variant"] += r["URL"] != canonical_url(r["URL"])
        found["er_percent"] += "%" in _text(r["ER"])
        found["thousands_sep"] += any(
            "," in _text(r[c]) for c in ("Followers", "Posts", "Likes", "Comments")
        )
        abbrev = re.fullmatch(r"\s*\d+(\.\d)?[km]\s*", _text(r["Followers"]))
        found["followers_abbrev"] += bool(abbrev)
        found["time_text"] += bool(re.fullmatch(r"\s*\d+[dw]\s*", _text(r["Time"])))
        found["padded"] += any(_text(r[c]) and _text(r[c]) != _text(r[c]).strip() for c in NUMERIC)
        found["blank_likes_comments"] += is_blank(r["Likes"]) and is_blank(r["Comments"])
        found["blank_time"] += is_blank(r["Time"])
        found["blank_delta"] += is_blank(r["Delta"])
    return found


def _xlsx_rows(path: Path) -> list[list[Any]]:
    """Cells as typed values, blanks as "" — read with openpyxl, independently of the loader."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    finally:
        book.close()
    width = len(rows[0])
    return [["" if v is None else v for v in r] + [""] * (width - len(r)) for r in rows]


def read_source(raw: Path) -> list[dict[str, Any]]:
    """All source rows in (file name, row) order with their file and row number."""
    rows = []
    for path in sorted(raw.iterdir()):
        if path.suffix == ".xlsx":
            sheet = _xlsx_rows(path)
            header, body, first = sheet[0], sheet[1:], 2
        else:
            table = pq.read_table(path)
            header, first = table.column_names, 1
            body = list(zip(*(table.column(c).to_pylist() for c in header), strict=True))
        assert list(header) == list(RAW_COLUMNS)
        for i, values in enumerate(body):
            rows.append(dict(zip(header, values, strict=True), file=path.name, row=first + i))
    return rows


@dataclass
class Run:
    out: Path
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    truth: list[dict[str, Any]]


def make_run(out: Path, **kwargs: Any) -> Run:
    params = generate(out, **kwargs)
    truth = pq.read_table(out / "truth" / "rows.parquet").to_pylist()
    return Run(out, params, read_source(out / "raw"), truth)


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
