"""Paths that never destroy data: no command replaces a warehouse, an input or a folder with
another kind of file, every write lands in one rename, and a wrong, locked or folder
`--warehouse` is one clear line before any work. Tiny files only: runs in seconds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_py.cli import commands
from models_py.cli.commands import main
from models_py.cli.export import write_table
from models_py.errors import ReelRecError
from models_py.warehouse import paths
from tests.files import HEADER, reel_row, write_xlsx
from tests.writer_lock import held_for_writing


def tiny_db(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as x").fetchall()
    return path


def test_kind_of_reads_the_first_bytes_not_the_name(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "x.duckdb", [HEADER, reel_row(1)])
    pq.write_table(pa.table({"a": [1]}), tmp_path / "p.html")
    (tmp_path / "r.xlsx").write_text("<!DOCTYPE html><html></html>")
    (tmp_path / "t.csv").write_text("Song,URL\n")
    (tmp_path / "e.csv").write_bytes(b"")
    kinds = {
        "x.duckdb": paths.ZIP,
        "p.html": "a parquet file",
        "r.xlsx": paths.HTML,
        "t.csv": paths.TEXT,
        "e.csv": paths.EMPTY,
        "w.csv": paths.DUCKDB,
        "missing": paths.MISSING,
        ".": paths.FOLDER,
    }
    tiny_db(tmp_path / "w.csv")
    assert {name: paths.kind_of(tmp_path / name) for name in kinds} == kinds


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old")
    path.chmod(0o640)
    with pytest.raises(RuntimeError), paths.replacing(path) as partial:
        partial.write_text("half of the new")
        raise RuntimeError("disk full")
    assert path.read_text() == "old" and sorted(tmp_path.iterdir()) == [path]
    paths.write_text_replacing(path, "new")
    assert path.read_text() == "new" and (path.stat().st_mode & 0o777) == 0o640


def test_a_write_replaces_a_planted_symlink_never_writes_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.html").symlink_to(victim)
    paths.write_text_replacing(tmp_path / "out.html", "<!doctype html>")
    assert victim.read_text() == "precious" and not (tmp_path / "out.html").is_symlink()


HEADERS = ("rank", "title", "artist", "similarity")


def test_an_export_never_replaces_another_file(tmp_path: Path) -> None:
    workbook = tmp_path / "data1.xlsx"
    write_xlsx(workbook, [HEADER, reel_row(1)])
    before = workbook.read_bytes()
    for force in (False, True):
        with pytest.raises(ReelRecError, match="is not a reelrec export; refusing to replace"):
            write_table(workbook, HEADERS, [(1, "t", "a", 0.5)], force=force)
    assert workbook.read_bytes() == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_earlier_export_is_replaced_only_with_force(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"picks{suffix}"
    write_table(path, HEADERS, [(1, "old", "a", 0.5)])
    with pytest.raises(ReelRecError, match="exists; pass --force"):
        write_table(path, HEADERS, [(1, "new", "a", 0.5)])
    assert write_table(path, ("method", *HEADERS), [("x", 1, "new", "a", 0.5)], force=True) == 1


def test_a_failed_export_keeps_the_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "picks.csv"
    write_table(path, HEADERS, [(1, "old", "a", 0.5)])
    before = path.read_bytes()

    def rows() -> Iterator[tuple]:
        yield (1, "new", "a", 0.5)
        raise OSError(28, "No space left on device")

    class Rows(list):  # a sequence whose iteration fails half-way, like a full disk
        def __iter__(self):
            return rows()

    with pytest.raises(ReelRecError, match="cannot write"):
        write_table(path, HEADERS, Rows([None]), force=True)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], *expect: str) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2 and captured.err.startswith("reelrec: error: "), captured
    assert captured.err.count("\n") == 1 and "internal error" not in captured.err
    for part in expect:
        assert part in captured.err, captured.err
    return captured.out


def test_report_never_replaces_the_warehouse(tmp_path: Path, capsys) -> None:
    warehouse = tiny_db(tmp_path / "w.duckdb")
    before = warehouse.read_bytes()
    disguised = tmp_path / "w.html"
    disguised.write_bytes(before)
    for output in (warehouse, disguised, tmp_path):
        argv = ["report", "--warehouse", str(warehouse), "--output", str(output)]
        one_line_error(capsys, argv, f"--output {output}")
    assert warehouse.read_bytes() == before and disguised.read_bytes() == before


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    write_xlsx(folder / "data1.xlsx", [HEADER, reel_row(1)])
    return folder


def test_run_never_publishes_over_an_input_file(inputs: Path, capsys) -> None:
    workbook = inputs / "data1.xlsx"
    before = workbook.read_bytes()
    argv = ["run", "--input", str(inputs), "--warehouse", str(workbook)]
    out = one_line_error(capsys, argv, "already holds an Excel workbook", "refusing to replace")
    assert "▶" not in out and workbook.read_bytes() == before
    assert sorted(p.name for p in inputs.iterdir()) == ["data1.xlsx"]  # not even a lock file


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("folder", "is a folder; give a file name"),
        ("new.csv", "give a file name ending in .duckdb"),
        ("a-file/w.duckdb", "a-file is a file, not a folder"),
        ("report-folder.duckdb", "the report path"),
    ],
)
def test_a_wrong_warehouse_for_a_run_is_refused_up_front(
    inputs: Path, tmp_path: Path, capsys, name: str, expect: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "report-folder-report.html").mkdir()
    argv = ["run", "--input", str(inputs), "--warehouse", str(tmp_path / name)]
    assert "▶" not in one_line_error(capsys, argv, expect)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    with held_for_writing(tiny_db(tmp_path / "held.duckdb")) as path:
        yield path


def test_a_locked_warehouse_is_a_clear_error(held: Path, inputs: Path, capsys) -> None:
    before = held.read_bytes()
    for argv in (
        ["run", "--input", str(inputs), "--warehouse", str(held)],
        ["recommend", "x", "--warehouse", str(held)],
        ["report", "--warehouse", str(held), "--output", str(held.with_suffix(".html"))],
    ):
        out = one_line_error(capsys, argv, "is open for writing by another program (PID")
        assert "▶" not in out
    assert held.read_bytes() == before


@pytest.mark.parametrize("command", [["recommend", "x"], ["similar", "x"], ["report"]])
def test_reading_a_folder_or_another_kind_of_file_is_a_clear_error(
    inputs: Path, capsys, command: list[str]
) -> None:
    workbook = inputs / "data1.xlsx"
    for warehouse, kind in ((inputs, "is a folder"), (workbook, "is an Excel workbook")):
        argv = [*command, "--warehouse", str(warehouse)]
        if command == ["report"]:
            argv += ["--output", str(inputs.parent / "r.html")]
        one_line_error(capsys, argv, f"{warehouse} {kind}", "not a DuckDB warehouse")


def test_the_error_log_goes_beside_the_warehouse_never_through_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands, "cmd_recommend", bug)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "wh"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (folder / "reelrec-error.log").symlink_to(victim)
    assert main(["recommend", "x", "--warehouse", str(folder / "w.duckdb")]) == 1
    err = capsys.readouterr().err
    log = folder / "reelrec-error.log"
    assert f"traceback in {log}" in err and "RuntimeError: a bug" in log.read_text()
    assert victim.read_text() == "precious" and not log.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim.txt", "wh"]  # none in cwd
    # No warehouse folder to write in: a new temporary file.
    assert main(["recommend", "x", "--warehouse", str(tmp_path / "gone" / "w.duckdb")]) == 1
    elsewhere = Path(capsys.readouterr().err.split("traceback in ")[1].split(")")[0])
    assert elsewhere.name.startswith("reelrec-error-") and "a bug" in elsewhere.read_text()
    elsewhere.unlink()
