"""The published warehouse: readers are never blocked, never see a half-built file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from models_py.warehouse import file as warehouse
from tests.conftest import SMALL_VARS, Built

pytestmark = pytest.mark.slow

READER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    before = con.execute("select count(*) from main.reels").fetchall()[0][0]
    print("ready", flush=True)
    sys.stdin.readline()  # hold the file open until told to finish
    after = con.execute("select count(*) from main.reels").fetchall()[0][0]
    print(before, after, flush=True)
    """
)


def test_run_succeeds_while_another_process_reads(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(built.warehouse.read_bytes())
    with duckdb.connect(str(target)) as con:  # mark the old file so we can tell them apart
        con.execute("delete from main.reels where rowid % 2 = 0").fetchall()
        old_rows = con.execute("select count(*) from main.reels").fetchall()[0][0]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"
        pipeline.run(
            built.data / "raw",
            target,
            dbt_vars=SMALL_VARS,
            generate_if_empty=False,
            score_models=False,
            echo=lambda _: None,
        )
        out, _ = reader.communicate("done\n", timeout=60)
    finally:
        reader.kill()
    # The reader kept its consistent view of the old warehouse throughout the run…
    assert out.split() == [str(old_rows), str(old_rows)]
    # …and new readers see the new one.
    with duckdb.connect(str(target), read_only=True) as con:
        new_rows = con.execute("select count(*) from main.reels").fetchall()[0][0]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        assert new_rows == con.execute("select count(*) from main.reels").fetchall()[0][0]
    assert new_rows > old_rows
    assert not warehouse.building_path(target).exists()


def test_published_file_opens_in_the_chosen_storage_format(built: Built) -> None:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        version = con.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchall()
    # Readable by DuckDB 1.0 and newer, as the README promises BI users.
    assert version == [(warehouse.STORAGE_VERSION + "+",)]
