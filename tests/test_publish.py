"""Publishing the warehouse and its report as one step: after a failure the old pair, after a
kill (once the next run has settled it) the new pair, never a new warehouse beside an old report
or the reverse. Uses tiny DuckDB files, so it runs in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from models_py.warehouse import publish as pub
from models_py.warehouse.file import building_path
from tests.writer_lock import held_for_writing

REPO = Path(__file__).resolve().parent.parent


def make_db(path: Path, label: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create table which as select ? as label", [label]).fetchall()


def label_of(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select label from which").fetchall()[0][0]


def old_pair(folder: Path) -> tuple[Path, Path, Path, Path]:
    """(warehouse, report, build, staged report): the old pair published, the new one staged."""
    target, report = folder / "warehouse.duckdb", folder / "warehouse-report.html"
    make_db(target, "old")
    report.write_text("<!doctype html>old")
    build, staged = building_path(target), folder / "warehouse-report.html.building"
    make_db(build, "new")
    staged.write_text("<!doctype html>new")
    return target, report, build, staged


def pair(target: Path, report: Path) -> tuple[str, str | None]:
    text = report.read_text().removeprefix("<!doctype html>") if report.is_file() else None
    return label_of(target), text


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_publish_puts_the_new_pair_in_place(tmp_path: Path) -> None:
    target, report, build, staged = old_pair(tmp_path)
    pub.publish(build, target, report, staged)
    assert pair(target, report) == ("new", "new")
    assert names(tmp_path) == ["warehouse-report.html", "warehouse.duckdb"]


def test_without_a_new_report_the_stale_one_goes(tmp_path: Path) -> None:
    target, report, build, _ = old_pair(tmp_path)
    pub.publish(build, target, report, None)
    assert pair(target, report) == ("new", None)


def failing_second_rename(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """os.replace as publish sees it: the report's rename works, the warehouse's fails."""
    real = os.replace

    def replace(src, dst):
        if Path(dst).suffix == ".duckdb":
            raise error
        real(src, dst)

    monkeypatch.setattr(pub.os, "replace", replace)


def test_a_fault_between_the_two_renames_leaves_the_old_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, report, build, staged = old_pair(tmp_path)
    failing_second_rename(monkeypatch, OSError(28, "No space left on device"))
    with pytest.raises(pub.NothingPublished, match="nothing was published.*are unchanged"):
        pub.publish(build, target, report, staged)
    monkeypatch.undo()
    assert pair(target, report) == ("old", "old")
    assert not pub.journal_path(target).exists() and not pub.previous_path(report).exists()


def test_ctrl_c_between_the_two_renames_leaves_the_old_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, report, build, staged = old_pair(tmp_path)
    failing_second_rename(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        pub.publish(build, target, report, staged)
    monkeypatch.undo()
    assert pair(target, report) == ("old", "old")


def test_a_report_path_that_is_a_folder_publishes_nothing(tmp_path: Path) -> None:
    target, report, build, staged = old_pair(tmp_path)
    report.unlink()
    report.mkdir()  # appeared after the run's up-front check
    with pytest.raises(pub.NothingPublished, match="previous warehouse and report are unchanged"):
        pub.publish(build, target, report, staged)
    assert label_of(target) == "old" and report.is_dir()


def test_a_failed_roll_back_is_reported_as_a_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, report, build, staged = old_pair(tmp_path)
    real = os.replace

    def replace(src, dst):
        if Path(dst).suffix == ".duckdb" or Path(src).name.endswith(".previous"):
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(pub.os, "replace", replace)
    with pytest.raises(pub.MixedPublish, match="report does not describe the warehouse"):
        pub.publish(build, target, report, staged)


def test_a_warehouse_open_for_writing_is_not_replaced(tmp_path: Path) -> None:
    target, report, build, staged = old_pair(tmp_path)
    locked = pytest.raises(pub.NothingPublished, match="open for writing by another program")
    with held_for_writing(target), locked:
        pub.publish(build, target, report, staged)
    assert pair(target, report) == ("old", "old")


# Publishes in a child process that dies (SIGKILL-like, no clean-up) right after the report's
# rename, before the warehouse's.
KILLED_BETWEEN_RENAMES = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from models_py.warehouse import publish as pub
    real = os.replace
    def replace(src, dst):
        if Path(dst).suffix == ".duckdb":
            os._exit(9)
        real(src, dst)
    pub.os.replace = replace
    folder = Path(sys.argv[1])
    pub.publish(folder / "warehouse.duckdb.building", folder / "warehouse.duckdb",
                folder / "warehouse-report.html", folder / "warehouse-report.html.building")
    """
)


def test_a_kill_between_the_two_renames_is_finished_by_the_next_run(tmp_path: Path) -> None:
    target, report, _, _ = old_pair(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(tmp_path)], cwd=REPO, check=False
    )
    assert killed.returncode == 9
    # Mid-switch: the journal says so, and the old report is kept aside.
    assert pub.journal_path(target).exists() and pub.previous_path(report).exists()
    said = pub.finish_interrupted(target)  # what the next run does first, under the lock
    assert said and "finished publishing" in said
    assert pair(target, report) == ("new", "new")
    assert names(tmp_path) == ["warehouse-report.html", "warehouse.duckdb"]
    assert pub.finish_interrupted(target) is None


def test_a_journal_never_moves_files_from_another_folder(tmp_path: Path) -> None:
    target, report, _, _ = old_pair(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    outside.write_text("keep me")
    journal = pub.journal_path(target)
    journal.write_text(f'{{"build": "{outside}", "report": "x.html", "staged_report": null}}')
    assert "not a readable publish journal" in pub.finish_interrupted(target)
    assert outside.read_text() == "keep me" and pair(target, report) == ("old", "old")
    assert not journal.exists()
