"""Writing the dataset: source files to ``raw/`` (xlsx like the report's, or parquet parts),
the planted truth to ``truth/`` (per-row expectations, influencers, songs)."""

from __future__ import annotations

import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from models_py.contract import RAW_COLUMNS
from models_py.forking import can_fork, fork_pool
from models_py.synth.cells import EntityText, RenderedColumn, render
from models_py.synth.dirt import DIRT_BIT, DIRT_KINDS, REJECT_RULES, expected_rules, has_dirt
from models_py.synth.settings import TIERS, XLSX_MAX_ROWS
from models_py.synth.simulate import Planted
from models_py.synth.text import TEXT

FIXED_XLSX_TIME = "2021-06-01T00:00:00Z"  # report era; makes docProps/core.xml reproducible
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

TRUTH_ROWS_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("influencer_id", pa.string()),
        ("song_id", pa.string()),
        ("delta", pa.float64()),
        ("delta_expected", pa.float64()),
        ("censored", pa.bool_()),
        ("dirt", pa.string()),
        ("expected_rule", pa.string()),
    ]
)


def prepare_dirs(out_dir: Path) -> tuple[Path, Path]:
    """Create raw/ and truth/ and drop stale generated files so no old part is read back."""
    raw_dir, truth_dir = out_dir / "raw", out_dir / "truth"
    for folder in (raw_dir, truth_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for pattern in ("data*.xlsx", "part-*.parquet", "*.tmp"):
        for stale in raw_dir.glob(pattern):
            stale.unlink()
    probe = truth_dir / ".write_probe"
    probe.write_text("")  # fail fast on an unwritable folder, before minutes of work
    probe.unlink()
    return raw_dir, truth_dir


def write_outputs(
    planted: Planted, raw_dir: Path, truth_dir: Path, fmt: str, seed: int, part_rows: int
) -> list[dict[str, Any]]:
    """Source files and truth/rows.parquet; returns [{"file", "rows"}] in file order."""
    n = planted.rows["user"].size
    if fmt == "xlsx":
        n_files = max(2, math.ceil(n / XLSX_MAX_ROWS))
        chunks = np.array_split(np.arange(n), n_files)
        names, first_row = [f"data{i + 1}.xlsx" for i in range(n_files)], 2  # header is row 1
    else:
        chunks = [np.arange(a, min(a + part_rows, n)) for a in range(0, n, part_rows)]
        names, first_row = [f"part-{i + 1:05d}.parquet" for i in range(len(chunks))], 1
    entities = EntityText.build(planted, seed)
    files, xlsx_jobs = [], []
    with pq.ParquetWriter(truth_dir / "rows.parquet", TRUTH_ROWS_SCHEMA) as truth:
        for name, index in zip(names, chunks, strict=True):
            columns = render(planted, index, entities)
            if fmt == "xlsx":
                cells = [_xlsx_cells(columns[c]) for c in RAW_COLUMNS]
                xlsx_jobs.append((raw_dir / name, cells))
            else:
                table = pa.table({c: columns[c].text for c in RAW_COLUMNS})
                pq.write_table(table, raw_dir / name, compression="zstd")
            truth.write_table(_truth_rows(planted, index, name, first_row))
            files.append({"file": name, "rows": int(index.size)})
    if xlsx_jobs:
        _write_xlsx_files(xlsx_jobs)
    return files


def _xlsx_cells(column: RenderedColumn) -> list[Any]:
    """Cell values: numbers as numbers unless dirt made them text, empty cells as None."""
    texts = column.text.to_pylist()
    if column.value is None:
        return texts
    cells = column.value.tolist()
    for i in np.flatnonzero(column.as_text):
        cells[i] = texts[i]
    for i in np.flatnonzero(column.text.is_null().to_numpy(zero_copy_only=False)):
        cells[i] = None
    return cells


def _write_xlsx(path: Path, cells: list[list[Any]]) -> None:
    """One sheet: header row, then one row per record (``cells`` is column-major)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(list(RAW_COLUMNS))
    # openpyxl would store "#VALUE!" as an error cell (read back as blank) and "=..." as a
    # formula; junk must stay visible text, so force those cells to be strings.
    for column in cells:
        for i, v in enumerate(column):
            if isinstance(v, str) and (v in ERROR_CODES or v.startswith("=")):
                column[i] = WriteOnlyCell(sheet, v)
                column[i].data_type = "s"
    for row in zip(*cells, strict=True):
        sheet.append(row)
    tmp = path.with_name(path.name + ".tmp")
    workbook.save(tmp)
    _normalise_zip(tmp, path)


def _write_xlsx_files(jobs: list[tuple[Path, list[list[Any]]]]) -> None:
    """openpyxl's pure-Python XML writer dominates the runtime: one process per workbook.

    Uses fork (children only run openpyxl/zipfile on plain lists); spawn/forkserver would
    re-import the caller's __main__, which breaks unguarded scripts, so without fork (or with
    one CPU) the workbooks are written sequentially instead.
    """
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or not can_fork():
        for path, cells in jobs:
            _write_xlsx(path, cells)
        return
    with fork_pool(workers) as pool:
        for future in [pool.submit(_write_xlsx, path, cells) for path, cells in jobs]:
            future.result()


def _normalise_zip(src: Path, dst: Path) -> None:
    """Re-write the xlsx with fixed timestamps and entry order so equal seeds give equal bytes."""
    with zipfile.ZipFile(src) as zin:
        entries = [(info.filename, zin.read(info)) for info in zin.infolist()]
    stamp = FIXED_XLSX_TIME.encode()
    with zipfile.ZipFile(dst, "w") as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data
                )
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type, info.create_system, info.external_attr = (
                zipfile.ZIP_DEFLATED,
                3,
                0o644 << 16,
            )
            zout.writestr(info, data, compresslevel=6)
    src.unlink()


def _rule_names(codes: np.ndarray) -> pa.Array:
    """REJECT_RULES index (-1 = none) -> rule name or null."""
    names = pa.array([*REJECT_RULES, None], pa.string())
    return names.take(pa.array(np.where(codes < 0, len(REJECT_RULES), codes)))


def _truth_rows(planted: Planted, index: np.ndarray, file_name: str, first_row: int) -> pa.Table:
    """truth/rows.parquet for one source file: its keys, planted Delta, dirt and expected rule."""
    keys = (
        "user",
        "song",
        "bits",
        "delta",
        "delta_expected",
        "censored",
        "blank_url",
        "blank_song",
    )
    rows = {key: planted.rows[key][index] for key in keys}
    bits = rows["bits"]
    # Few distinct bit sets: name each once.
    distinct, inverse = np.unique(bits, return_inverse=True)
    dirt = [",".join(k for k in DIRT_KINDS if b & DIRT_BIT[k]) for b in distinct.tolist()]
    n = index.size
    return pa.table(
        {
            "source_file": pa.array(np.full(n, file_name, dtype=TEXT)),
            "source_row": pa.array(np.arange(first_row, first_row + n, dtype=np.int64)),
            "influencer_id": pa.array(planted.inf["url"][rows["user"]], mask=rows["blank_url"]),
            "song_id": pa.array(planted.songs["id"][rows["song"]], mask=rows["blank_song"]),
            "delta": pa.array(rows["delta"], mask=has_dirt(bits, "blank_delta")),
            "delta_expected": pa.array(rows["delta_expected"]),
            "censored": pa.array(rows["censored"]),
            "dirt": pa.array(dirt, pa.string()).take(pa.array(inverse)),
            "expected_rule": _rule_names(expected_rules(distinct)).take(pa.array(inverse)),
        }
    )


def _factor_columns(factors: np.ndarray) -> dict[str, np.ndarray]:
    return {f"factor_{j}": factors[:, j] for j in range(factors.shape[1])}


def write_entities(planted: Planted, truth_dir: Path) -> None:
    """truth/influencers.parquet and truth/songs.parquet: attributes and planted parameters."""
    influencers, songs = planted.inf, planted.songs
    influencer_table = {
        "influencer_id": pa.array(influencers["url"]),
        "handle": pa.array(influencers["handle"]),
        "name": pa.array(influencers["name"], mask=influencers["blank_name"]),
        "tier": pa.array(np.array(TIERS, dtype=TEXT)[influencers["tier"]]),
        "followers": influencers["followers"],
        "posts": influencers["posts"],
        "er": influencers["er"],
        "bias": influencers["bias"],
        **_factor_columns(influencers["factors"]),
        "dirty_rule": _rule_names(influencers["dirty_rule"]),
    }
    pq.write_table(pa.table(influencer_table), truth_dir / "influencers.parquet")
    song_table = {
        "song_id": pa.array(songs["id"]),
        "title": pa.array(songs["title"]),
        "release": pa.array(songs["release"], mask=songs["blank_release"]),
        "artist_id": songs["artist"],
        "artist_name": pa.array(songs["artist_name"]),
        "year": songs["year"],
        "popularity": songs["popularity"],
        "bias": songs["bias"],
        **_factor_columns(songs["factors"]),
        # The planted usage model (usage.py), for the oracle.
        "genre": songs["genre"],
        "usage_log_weight": songs["usage_log_weight"],
        **{
            f"genre_{name}": column
            for name, column in _factor_columns(songs["genre_factors"][songs["genre"]]).items()
        },
    }
    pq.write_table(pa.table(song_table), truth_dir / "songs.parquet")
