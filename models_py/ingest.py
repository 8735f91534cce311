"""Load every input file into the warehouse's `raw` schema as text, with its source and row.

raw.reels holds one row per data row of every file (canonical columns, text as written);
raw.source_files one row per file and sheet: format, header row, column mapping, rows read.
Cleaning and typing happen later, in dbt.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from models_py.columns import (
    CANONICAL_COLUMNS,
    match_headers,
    missing_required_message,
)
from models_py.errors import ReelRecError
from models_py.readers import SheetData, read_csv, read_xlsx

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


def discover_files(folder: Path) -> list[Path]:
    """Input files in name order (the order duplicates are resolved in)."""
    if not folder.is_dir():
        raise ReelRecError(f"input folder {folder} does not exist")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(("~$", "."))
    )
    if not files:
        kinds = ", ".join(SUPPORTED)
        raise ReelRecError(f"no input files in {folder} (looked for {kinds})")
    return files


def _read_one(path: Path, column_map: dict[str, str], name: str) -> list[SheetData]:
    return READERS[path.suffix.lower()](path, column_map, name)


def read_files(paths: list[Path], folder: Path, column_map: dict[str, str]) -> list[SheetData]:
    """Read xlsx/csv files, two at a time on separate cores when there are several."""
    names = [p.relative_to(folder).as_posix() for p in paths]
    if len(paths) < 2:
        return [s for p, n in zip(paths, names, strict=True) for s in _read_one(p, column_map, n)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = pool.map(_read_one, paths, [column_map] * len(paths), names)
        return [sheet for sheets in results for sheet in sheets]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    cols = ",\n  ".join(
        f'"{c}" bigint' if c == "source_row" else f'"{c}" varchar' for c in RAW_REELS_COLUMNS
    )
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace table raw.reels (\n  {cols}\n)")
    con.execute(
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
        """
    )


def _insert_sheet(con: duckdb.DuckDBPyConnection, sheet: SheetData) -> None:
    table = sheet.table
    n = table.num_rows
    full = pa.table(
        {
            "source_file": pa.array([sheet.source_file] * n, pa.string()),
            "source_sheet": pa.array([sheet.source_sheet] * n, pa.string()),
            **{
                c: table[c] if c in table.column_names else pa.nulls(n, pa.string())
                for c in RAW_REELS_COLUMNS[2:]
            },
        }
    )
    con.register("incoming_sheet", full)
    try:
        con.execute("insert into raw.reels by name select * from incoming_sheet")
    finally:
        con.unregister("incoming_sheet")


def _record_file(
    con: duckdb.DuckDBPyConnection,
    sheet: SheetData,
    path: Path,
    sha: str,
    rows: int,
) -> None:
    match = sheet.match
    con.execute(
        "insert into raw.source_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sheet.source_file,
            sheet.source_sheet,
            sheet.file_format,
            sha,
            path.stat().st_size,
            sheet.header_row,
            rows,
            ", ".join(h for h in sheet.headers if h),
            match.describe_mapping(sheet.headers),
            ", ".join(match.missing),
            ", ".join(match.ignored),
            len(sheet.lost_cells),
        ],
    )


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> list[str]:
    try:
        return [
            r[0]
            for r in con.execute(
                "select name from parquet_schema(?) where name <> 'schema' and num_children is null",
                [str(path)],
            ).fetchall()
        ]
    except duckdb.Error as exc:
        raise ReelRecError(f"{name}: cannot read as parquet ({exc})") from None


def load_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, column_map: dict[str, str]
) -> tuple[SheetData, int]:
    """Parquet goes straight from file to table inside DuckDB: no Python round trip."""
    headers = _parquet_columns(con, path, name)
    match = match_headers(headers, column_map, name)
    if not match.has_required:
        raise ReelRecError(missing_required_message(name, headers, match))
    selects = [
        f'cast("{headers[match.positions[c]].replace(chr(34), chr(34) * 2)}" as varchar) as "{c}"'
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
        before = con.execute("select count(*) from raw.reels").fetchone()[0]
        con.execute(sql, [name, str(path)])
        rows = con.execute("select count(*) from raw.reels").fetchone()[0] - before
    except duckdb.Error as exc:
        raise ReelRecError(f"{name}: cannot read as parquet ({exc})") from None
    sheet = SheetData(name, None, "parquet", 0, headers, match, pa.table({}))
    return sheet, rows


def load_folder(
    con: duckdb.DuckDBPyConnection, folder: Path, column_map: dict[str, str]
) -> LoadReport:
    """Replace raw.reels and raw.source_files with the contents of every file in `folder`."""
    paths = discover_files(folder)
    create_raw_tables(con)
    report = LoadReport(files=len(paths))
    spreadsheet_paths = [p for p in paths if p.suffix.lower() in READERS]
    sheets = read_files(spreadsheet_paths, folder, column_map)
    path_by_name = {p.relative_to(folder).as_posix(): p for p in paths}
    for sheet in sheets:
        path = path_by_name[sheet.source_file]
        if sheet.table.num_rows == 0:
            where = sheet.source_file + (f", sheet '{sheet.source_sheet}'" if sheet.source_sheet else "")
            raise ReelRecError(f"{where}: header found on row {sheet.header_row} but no data rows")
        _insert_sheet(con, sheet)
        _record_file(con, sheet, path, file_sha256(path), sheet.table.num_rows)
        report.rows += sheet.table.num_rows
        report.warnings.extend(sheet.warnings)
    for path in paths:
        if path.suffix.lower() != ".parquet":
            continue
        name = path.relative_to(folder).as_posix()
        sheet, rows = load_parquet(con, path, name, column_map)
        if rows == 0:
            raise ReelRecError(f"{name}: no data rows")
        _record_file(con, sheet, path, file_sha256(path), rows)
        report.rows += rows
    for sheet in sheets:
        missing = [c for c in sheet.match.missing]
        if missing:
            report.warnings.append(
                f"{sheet.source_file}: optional column(s) absent, loaded as empty: "
                + ", ".join(missing)
            )
    return report
