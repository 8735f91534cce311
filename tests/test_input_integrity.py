"""What the loader reads and what the audit says it read: links out of the input folder are
refused unless asked for, and the SHA-256 recorded is of the bytes loaded (a file that changes
during its load is refused)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from models_py.cli.commands import main
from models_py.errors import ReelRecError
from models_py.ingest import load
from tests.files import HEADER, reel_row

SECRET = "TOP-SECRET-FIRST-LINE"


def write_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *(reel_row(i) for i in range(n))])
    return path


def loaded(folder: Path, sql: str = "select 1", follow_links: bool = False) -> list[tuple]:
    """Load `folder` and answer `sql`; the connection is closed (the loader forks readers for
    several files, which a process still running DuckDB threads must not do)."""
    with duckdb.connect() as con:
        load.load_folder(con, folder, {}, follow_links)
        return con.execute(sql).fetchall()


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """(input folder, a folder outside it holding a secret file that has a reel's header)."""
    inside, outside = tmp_path / "in", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    write_csv(inside / "a.csv", 3)
    (outside / "secret.csv").write_text(f"{SECRET}\nmore\n")
    return inside, outside


def test_a_link_out_of_the_input_folder_is_refused(folders: tuple[Path, Path]) -> None:
    inside, outside = folders
    (inside / "b.csv").symlink_to(outside / "secret.csv")
    with pytest.raises(ReelRecError, match="b.csv is a link to .*outside the input folder") as e:
        loaded(inside)
    assert "--follow-links" in str(e.value) and SECRET not in str(e.value)


def test_follow_links_reads_it(folders: tuple[Path, Path]) -> None:
    inside, outside = folders
    write_csv(outside / "more.csv", 2)
    (inside / "b.csv").symlink_to(outside / "more.csv")
    files = loaded(inside, "select source_file, rows_read from raw.source_files order by 1", True)
    assert files == [("a.csv", 3), ("b.csv", 2)]


def test_a_link_inside_the_input_folder_is_read(folders: tuple[Path, Path]) -> None:
    inside, _ = folders
    (inside / "archive").mkdir()
    write_csv(inside / "archive" / "old.csv", 2)
    (inside / "b.csv").symlink_to(inside / "archive" / "old.csv")
    assert loaded(inside, "select count(*) from raw.reels") == [(5,)]


def test_a_dangling_link_is_an_error_not_a_silent_skip(folders: tuple[Path, Path]) -> None:
    inside, outside = folders
    (inside / "b.csv").symlink_to(outside / "gone.csv")
    with pytest.raises(ReelRecError, match="b.csv is a link to .*gone.csv, which does not exist"):
        loaded(inside)


def test_run_passes_follow_links_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        raise ReelRecError("stop here")

    monkeypatch.setattr(pipeline, "run", fake_run)
    main(["run", "--input", str(tmp_path), "--follow-links"])
    assert seen["follow_links"] is True
    main(["run", "--input", str(tmp_path)])
    assert seen["follow_links"] is False


def test_the_audit_hash_is_of_the_bytes_loaded(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", 4)
    [(sha, size)] = loaded(tmp_path, "select file_sha256, file_bytes from raw.source_files")
    assert (sha, size) == (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)


@pytest.mark.parametrize("change", ["append", "rewrite"])
def test_a_file_changed_during_its_load_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    path = write_csv(tmp_path / "a.csv", 20)
    real_insert = load._insert_sheet

    def insert_then_change(con, sheet):
        rows = real_insert(con, sheet)
        if change == "append":  # an export still being written: five more rows land
            with path.open("a", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(reel_row(i) for i in range(20, 25))
        else:  # same size, other bytes
            path.write_bytes(path.read_bytes().replace(b"Person 1,", b"Person 9,"))
        return rows

    monkeypatch.setattr(load, "_insert_sheet", insert_then_change)
    with pytest.raises(ReelRecError, match="a.csv: the file changed while it was being loaded"):
        loaded(tmp_path)
