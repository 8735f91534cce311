"""Load every input file into the warehouse's `raw` schema as text, with its source and row.

raw.reels holds one row per data row of every file (canonical columns, text as written);
raw.source_files one row per file and sheet: format, header row, column mapping, rows read.
Cleaning and typing happen later, in dbt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas  # noqa: F401  (see below)
import pyarrow as pa

from models_py.errors import ReelRecError
from models_py.forking import fork_pool
from models_py.ingest.columns import (
    CANONICAL_COLUMNS,
    check_column_map,
    match_headers,
    missing_required_message,
)
from models_py.ingest.parquet_columns import nested_note, parquet_columns, refuse_nested
from models_py.ingest.readers import SheetData, read_csv, read_xlsx

READERS = {".xlsx": read_xlsx, ".xlsm": read_xlsx, ".csv": read_csv}
SUPPORTED = (*READERS, ".parquet")

RAW_REELS_COLUMNS = (
    "source_file",
    "source_sheet",
    "source_row",
    *CANONICAL_COLUMNS,
    "lost_cells",
)


@dataclass
class LoadReport:
    files: int = 0
    rows: int = 0
    warnings: list[str] = field(default_factory=list)


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Execute a statement and finish its result (DuckDB 2 blocks a connection until then)."""
    con.execute(sql, params or []).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    """First value of a one-row query, with the result fully consumed."""
    return con.execute(sql, params or []).fetchall()[0][0]


def _check_link(path: Path, folder: Path, follow_links: bool) -> None:
    """A symlink is read only when it stays inside the input folder, or when the user asked
    for links to be followed: a planted link must not feed another file into the warehouse
    (and into error messages that quote its first line)."""
    target = path.resolve()
    if not target.exists():
        raise ReelRecError(f"{path.name} is a link to {target}, which does not exist")
    if not follow_links and not target.is_relative_to(folder.resolve()):
        raise ReelRecError(
            f"{path.name} is a link to {target}, outside the input folder {folder}; "
            "pass --follow-links to read it"
        )


def discover_files(folder: Path, follow_links: bool = False) -> list[Path]:
    """Input files in name order (the order duplicates are resolved in)."""
    if not folder.is_dir():
        raise ReelRecError(f"input folder {folder} does not exist")
    candidates = [
        p
        for p in folder.iterdir()
        if p.suffix.lower() in SUPPORTED and not p.name.startswith(("~$", "."))
    ]
    for path in candidates:
        if path.is_symlink():
            _check_link(path, folder, follow_links)
    files = sorted(p for p in candidates if p.is_file())
    if not files:
        kinds = ", ".join(SUPPORTED)
        raise ReelRecError(f"no input files in {folder} (looked for {kinds})")
    return files


def _read_one(path: Path, column_map: dict[str, str], name: str) -> list[SheetData]:
    return READERS[path.suffix.lower()](path, column_map, name)


def read_files(paths: list[Path], folder: Path, column_map: dict[str, str]) -> Iterator[SheetData]:
    """Read xlsx/csv files in order, two at a time on separate cores when there are several.

    Yields sheets as files finish, so the caller loads one while the next is still parsing.
    """
    names = [p.relative_to(folder).as_posix() for p in paths]
    if len(paths) < 2:
        for path, name in zip(paths, names, strict=True):
            yield from _read_one(path, column_map, name)
        return
    # pyarrow imports pandas on its first array; importing it with this module lets the forked
    # readers inherit it instead of each paying for the import (the pipeline needs pandas
    # later anyway).
    with fork_pool(2) as pool:
        for sheets in pool.map(_read_one, paths, [column_map] * len(paths), names):
            yield from sheets


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int


def file_digest(path: Path) -> FileDigest:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return FileDigest(digest.hexdigest(), size)


def digests_before_load(paths: list[Path], folder: Path) -> dict[Path, FileDigest]:
    digests = {}
    for path in paths:
        try:
            digests[path] = file_digest(path)
        except OSError as exc:
            name = path.relative_to(folder).as_posix()
            raise ReelRecError(f"{name}: cannot read ({exc.strerror})") from None
    return digests


def check_unchanged(digests: dict[Path, FileDigest], folder: Path) -> None:
    """The audit's hash must be of the bytes loaded. Each file was hashed before its load and is
    hashed again after: a file written to meanwhile (a copy still in progress, an export being
    appended to) may have been read half old, half new, so it is refused."""
    for path, before in digests.items():
        try:
            after = file_digest(path)
        except OSError as exc:
            after = FileDigest(f"unreadable ({exc.strerror})", -1)
        if after != before:
            raise ReelRecError(
                f"{path.relative_to(folder).as_posix()}: the file changed while it was being "
                f"loaded ({before.size:,} bytes, SHA-256 {before.sha256[:12]}… before; "
                f"{after.size:,} bytes, {after.sha256[:12]}… after); load it again once "
                "whatever is writing it has finished"
            )


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    cols = ",\n  ".join(
        f'"{c}" bigint' if c == "source_row" else f'"{c}" varchar' for c in RAW_REELS_COLUMNS
    )
    run_sql(con, "create schema if not exists raw")
    run_sql(con, f"create or replace table raw.reels (\n  {cols}\n)")
    run_sql(
        con,
        """
        create or replace table raw.source_files (
            source_file varchar,
            source_sheet varchar,
            file_format varchar,
            file_sha256 varchar,
            file_bytes bigint,
            header_row bigint,
            rows_read bigint,
            columns_found varchar,
            column_mapping varchar,
            missing_columns varchar,
            ignored_columns varchar,
            lost_cells bigint
        )
        """,
    )


def _insert_sheet(con: duckdb.DuckDBPyConnection, sheet: SheetData) -> int:
    """Append a sheet to raw.reels; returns rows kept.

    Empty cells become NULL, and rows blank in every column (spreadsheet padding) are not
    records, so they are not loaded.
    """
    table = sheet.table
    present = [c for c in CANONICAL_COLUMNS if c in table.column_names]
    values = [f'nullif("{c}", \'\') as "{c}"' for c in present]
    blank = " and ".join(f"nullif(\"{c}\", '') is null" for c in present)
    con.register("incoming_sheet", table)
    try:
        # INSERT returns the number of rows it inserted.
        return int(
            scalar(
                con,
                f"""
                insert into raw.reels by name
                select ? as source_file, ? as source_sheet, source_row,
                       {", ".join(values)}, lost_cells
                from incoming_sheet
                where not ({blank})
                """,
                [sheet.source_file, sheet.source_sheet],
            )
        )
    finally:
        con.unregister("incoming_sheet")


def _record_file(
    con: duckdb.DuckDBPyConnection,
    sheet: SheetData,
    digest: FileDigest,
    rows: int,
) -> None:
    match = sheet.match
    run_sql(
        con,
        "insert into raw.source_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sheet.source_file,
            sheet.source_sheet,
            sheet.file_format,
            digest.sha256,
            digest.size,
            sheet.header_row,
            rows,
            ", ".join(h for h in sheet.headers if h),
            match.describe_mapping(sheet.headers),
            ", ".join(match.missing),
            ", ".join(match.ignored),
            len(sheet.lost_cells),
        ],
    )


def load_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, column_map: dict[str, str]
) -> tuple[SheetData, int]:
    """Parquet goes straight from file to table inside DuckDB: no Python round trip."""
    columns = parquet_columns(con, path, name)
    headers = [c.name for c in columns]
    match = match_headers(headers, column_map, name)
    refuse_nested(columns, match, name)
    if not match.has_required:
        raise ReelRecError(
            missing_required_message(name, headers, match, column_map) + nested_note(columns)
        )
    check_column_map(column_map, headers, name)
    selects = [
        f'{columns[match.positions[c]].as_text()} as "{c}"'
        if c in match.positions
        else f'null::varchar as "{c}"'
        for c in CANONICAL_COLUMNS
    ]
    # file_row_number is 0-based; users count rows from 1.
    sql = f"""
        insert into raw.reels by name
        select ? as source_file, null as source_sheet, file_row_number + 1 as source_row,
               {", ".join(selects)}, null as lost_cells
        from read_parquet(?, file_row_number = true)
    """
    try:
        rows = int(scalar(con, sql, [name, str(path)]))
    except duckdb.Error as exc:
        raise ReelRecError(f"{name}: cannot read as parquet ({exc})") from None
    sheet = SheetData(name, None, "parquet", 0, headers, match, pa.table({}))
    return sheet, rows


def load_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    column_map: dict[str, str],
    follow_links: bool = False,
) -> LoadReport:
    """Replace raw.reels and raw.source_files with the contents of every file in `folder`.

    Each file's SHA-256 and size in raw.source_files (and so the run id made from them) are
    those of the bytes loaded: hashed before the load, checked again after it."""
    paths = discover_files(folder, follow_links)
    digests = digests_before_load(paths, folder)
    create_raw_tables(con)
    report = LoadReport(files=len(paths))
    path_by_name = {p.relative_to(folder).as_posix(): p for p in paths}
    spreadsheets = [p for p in paths if p.suffix.lower() in READERS]
    loaded: list[tuple[SheetData, int]] = []
    for sheet in read_files(spreadsheets, folder, column_map):
        rows = _insert_sheet(con, sheet)
        if rows == 0:
            where = sheet.source_file
            if sheet.source_sheet:
                where += f", sheet '{sheet.source_sheet}'"
            raise ReelRecError(f"{where}: header found on row {sheet.header_row} but no data rows")
        loaded.append((sheet, rows))
    for path in paths:
        if path.suffix.lower() == ".parquet":
            name = path.relative_to(folder).as_posix()
            sheet, rows = load_parquet(con, path, name, column_map)
            if rows == 0:
                raise ReelRecError(f"{name}: no data rows")
            loaded.append((sheet, rows))
    check_unchanged(digests, folder)
    for sheet, rows in loaded:
        _record_file(con, sheet, digests[path_by_name[sheet.source_file]], rows)
        report.rows += rows
        report.warnings.extend(sheet.warnings)
        if sheet.match.missing:
            report.warnings.append(
                f"{sheet.source_file}: optional column(s) absent, loaded as empty: "
                + ", ".join(sheet.match.missing)
            )
    return report
