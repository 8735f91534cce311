"""Small xlsx files that once took all memory, each read in a child process held to an address
space limit, so a regression fails here instead of exhausting the machine.

calamine lays a sheet out densely from its first to its last used cell and holds each text
whole: a 5 KB file with one cell at XFD30000 took 17.5 GB, XFD1048576 aborted the process in
Rust, and a 1.2 MB file holding one 1.2 GB text loaded it whole. The 1.2 GB case inflates that
much on every read, so it is in the `big` tier.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.xlsx_craft import SHEET, craft, far_cell, one_long_string

# A run takes about 0.6 GB of address space up to its load (arenas capped below); a dense
# grid of the far cells below would need 16 GB and more, the gigabyte cell several GB.
ADDRESS_SPACE = 2 << 30

LIMIT = (
    f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))"
)
RUN = f"{LIMIT}\nimport sys\nfrom models_py.cli.commands import main\nsys.exit(main(sys.argv[1:]))"
LOAD = LIMIT + textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import duckdb
    from models_py.ingest.load import load_folder
    con = duckdb.connect()
    report = load_folder(con, Path(sys.argv[1]), {})
    bios = con.execute('select length("Bio") from raw.reels order by source_row').fetchall()
    print(json.dumps({"rows": report.rows, "bio_lengths": [b for (b,) in bios],
                      "warnings": report.warnings}))
    """
)


def run_limited(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # glibc reserves 64 MB of address space per thread arena, up to 8 per core: capped, the
    # child's baseline does not grow with the machine's cores.
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, check=False, cwd=cwd, env=env, timeout=900,
    )  # fmt: skip


@pytest.mark.parametrize("ref", ["XFD30000", "XFD1048576"])
def test_one_far_cell_is_refused_naming_it(tmp_path: Path, ref: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = craft(folder / "far.xlsx", sheet=far_cell(ref))
    assert path.stat().st_size < 10_000
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_limited(
        RUN, "run", "--input", str(folder), "--warehouse", str(warehouse), cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr[-2000:]
    err = result.stderr
    assert err.startswith("reelrec: error: far.xlsx, sheet 'Sheet': cell " + ref), err
    assert err.count("\n") == 1 and "33,554,432 cells" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing published


def test_a_far_declared_dimension_alone_is_read(tmp_path: Path) -> None:
    """<dimension ref="A1:XFD1048576"> is only a size hint to calamine; the cells decide."""
    far = b'<dimension ref="A1:XFD1048576"/>'
    path = craft(
        tmp_path / "dim.xlsx", sheet=lambda xml: xml.replace(b'<dimension ref="A1:Q4" />', far)
    )
    assert far in zipfile.ZipFile(path).read(SHEET)
    result = run_limited(LOAD, str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["rows"] == 3


@pytest.mark.big
def test_a_gigabyte_cell_is_cut_before_it_is_read(tmp_path: Path) -> None:
    """1.2 GB of text compresses to about 1.2 MB; the loader keeps 32,768 characters of it."""
    folder = tmp_path / "in"
    folder.mkdir()
    path = craft(folder / "bomb.xlsx", strings=one_long_string(1_200_000_000))
    assert path.stat().st_size < 2_000_000
    result = run_limited(LOAD, str(folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout)
    assert loaded["rows"] == 3 and loaded["bio_lengths"] == [32_768, 5, 5]
    assert any("Bio in row 2" in w and "out_of_range" in w for w in loaded["warnings"])
