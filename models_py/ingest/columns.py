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


def parse_column_map(specs: str | Sequence[str] | None) -> dict[str, str]:
    """`--map Song=track_id --map URL=profile` (repeatable) or `--map Song=track_id,URL=profile`
    into {ReelRec column: header in the file}. A target ReelRec does not know is kept as typed:
    `check_column_map` refuses it once a file's columns are known, so the message lists both."""
    parts = [specs] if isinstance(specs, str) else list(specs or [])
    mapping: dict[str, str] = {}
    for part in (p.strip() for spec in parts for p in spec.split(",")):
        if not part:
            continue
        ours, sep, theirs = (x.strip() for x in part.partition("="))
        if not sep or not ours or not theirs:
            raise ReelRecError(f"--map: '{part}' is not of the form Column=your_header")
        target = _CANONICAL_BY_KEY.get(header_key(ours), ours)
        if target in mapping and header_key(mapping[target]) != header_key(theirs):
            raise ReelRecError(
                f"--map: {target} is mapped twice ('{mapping[target]}' and '{theirs}'); "
                "map each ReelRec column to one of your columns"
            )
        mapping[target] = theirs
    return mapping


def _found(headers: Sequence[object]) -> str:
    return ", ".join(str(h) for h in headers if h is not None and str(h).strip()) or "(none)"


def column_map_problems(column_map: dict[str, str], headers: Sequence[object]) -> list[str]:
    """What is wrong with `--map` for a file with these headers: an unknown target, a column
    the file does not have, one column mapped to two targets."""
    present = {header_key(h) for h in headers if h is not None and str(h).strip()}
    problems = []
    targets_of: dict[str, list[str]] = {}
    for target, theirs in column_map.items():
        if target not in CANONICAL_COLUMNS:
            problems.append(f"'{target}' is not a ReelRec column")
        elif header_key(theirs) not in present:
            problems.append(f"{target}={theirs}: the file has no column '{theirs}'")
        targets_of.setdefault(header_key(theirs), []).append(target)
    for targets in targets_of.values():
        if len(targets) > 1:
            theirs = column_map[targets[0]]
            problems.append(f"'{theirs}' is mapped to {' and '.join(targets)}; map it once")
    return problems


def bad_map_message(where: str, problems: list[str], headers: Sequence[object]) -> str:
    return (
        f"{where}: --map: {'; '.join(problems)}. The file's columns: {_found(headers)}. "
        f"ReelRec's columns: {', '.join(CANONICAL_COLUMNS)}"
    )


def check_column_map(column_map: dict[str, str], headers: Sequence[object], where: str) -> None:
    """Refuse a `--map` that does not fit the header row found in a file."""
    if problems := column_map_problems(column_map, headers):
        raise ReelRecError(bad_map_message(where, problems, headers))


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
    # Unknown targets are refused by check_column_map, with the file's columns.
    wanted = {
        header_key(theirs): ours for ours, theirs in column_map.items() if ours in CANONICAL_COLUMNS
    }
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


def missing_required_message(
    where: str, headers: Sequence[object], match: HeaderMatch, column_map: dict[str, str]
) -> str:
    if problems := column_map_problems(column_map, headers):
        return bad_map_message(where, problems, headers)
    absent = [c for c in REQUIRED_COLUMNS if c not in match.positions]
    cols = ", ".join(f"'{c}'" for c in absent)
    hint = " ".join(f"--map {c}=<your column>" for c in absent)
    return (
        f"{where}: required column {cols} not found; columns found: {_found(headers)}. "
        f"Map yours with {hint}"
    )
