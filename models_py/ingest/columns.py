"""The input columns ReelRec knows, and how a file's headers are matched to them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from models_py.contract import RAW_COLUMNS, REQUIRED_COLUMNS
from models_py.errors import ReelRecError

# The contract's column list; raw tables keep these names.
CANONICAL_COLUMNS = RAW_COLUMNS


def header_key(name: object) -> str:
    """Match key for a header: case-, space-, underscore- and hyphen-insensitive."""
    return re.sub(r"[\s_\-]+", "", str(name)).casefold()


_CANONICAL_BY_KEY = {header_key(c): c for c in CANONICAL_COLUMNS}


def parse_column_map(spec: str | None) -> dict[str, str]:
    """Parse `--map Song=track_id,URL=profile` into {canonical column: header in the file}."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        ours, sep, theirs = part.partition("=")
        canonical = _CANONICAL_BY_KEY.get(header_key(ours))
        if not sep or not theirs.strip():
            raise ReelRecError(f"--map: '{part.strip()}' is not of the form Column=your_header")
        if canonical is None:
            known = ", ".join(CANONICAL_COLUMNS)
            raise ReelRecError(f"--map: '{ours.strip()}' is not a ReelRec column; known: {known}")
        mapping[canonical] = theirs.strip()
    return mapping


@dataclass(frozen=True)
class HeaderMatch:
    """Where each canonical column sits in a file's header row."""

    positions: dict[str, int]  # canonical column -> 0-based position in the file
    missing: tuple[str, ...]  # optional canonical columns absent from the file
    ignored: tuple[str, ...]  # headers in the file ReelRec does not use

    @property
    def has_required(self) -> bool:
        return all(c in self.positions for c in REQUIRED_COLUMNS)

    def describe_mapping(self, headers: Sequence[object]) -> str:
        """'Song<-track_id' entries for columns whose header differs from ReelRec's name."""
        renamed = [
            f"{c}<-{headers[i]}" for c, i in self.positions.items() if str(headers[i]).strip() != c
        ]
        return ", ".join(renamed)


def match_headers(headers: Sequence[object], column_map: dict[str, str], where: str) -> HeaderMatch:
    """Match a header row to canonical columns; duplicate matches are an error naming both."""
    wanted = {header_key(theirs): ours for ours, theirs in column_map.items()}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(headers):
        if header is None or str(header).strip() == "":
            continue
        key = header_key(header)
        canonical = wanted.get(key)
        if canonical is None and key in _CANONICAL_BY_KEY:
            canonical = _CANONICAL_BY_KEY[key]
            if canonical in column_map:  # the user mapped this column to another header
                canonical = None
        if canonical is None:
            ignored.append(str(header))
            continue
        if canonical in positions:
            first = headers[positions[canonical]]
            raise ReelRecError(
                f"{where}: column '{canonical}' appears twice "
                f"(headers '{first}' in column {positions[canonical] + 1} and '{header}' in "
                f"column {i + 1}); remove one or map the right one with --map {canonical}=<header>"
            )
        positions[canonical] = i
    missing = tuple(c for c in CANONICAL_COLUMNS if c not in positions)
    return HeaderMatch(positions, missing, tuple(ignored))


def missing_required_message(where: str, headers: Sequence[object], match: HeaderMatch) -> str:
    absent = [c for c in REQUIRED_COLUMNS if c not in match.positions]
    found = ", ".join(str(h) for h in headers if h is not None and str(h).strip()) or "(none)"
    cols = ", ".join(f"'{c}'" for c in absent)
    hint = " ".join(f"--map {c}=<your column>" for c in absent)
    return (
        f"{where}: required column {cols} not found; columns found: {found}. Map yours with {hint}"
    )
