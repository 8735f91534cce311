"""SIGKILL at each stage of `reelrec run`: the published warehouse never changes, the next run
succeeds, and no leftovers of the killed runs remain."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from models_py.errors import ReelRecError
from models_py.warehouse import file as warehouse
from tests.conftest import Built

pytestmark = pytest.mark.slow

# The stage lines `reelrec run` prints, in order ("▶ <stage> …").
STAGES = [
    "load",
    "dbt build (clean",
    "fit and score models",
    "dbt build of the score marts",
    "render the HTML report",
]
# Big enough to fit the models (≥ 100 training ratings), small enough to be quick.
TINY = {"influencers": 120, "celebrities": 20, "songs": 150}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_run(data: Path, target: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "models_py.cli", "run", "--input", str(data / "raw"),
         "--warehouse", str(target), "--var", "min_user_count=2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=target.parent,
        start_new_session=True,  # its own process group: its workers can be reaped below
    )  # fmt: skip


def kill_during(run: subprocess.Popen[str], stage: str) -> list[str]:
    """Wait for `▶ <stage>`, let the stage get going, then SIGKILL the run's main process."""
    seen: list[str] = []
    for line in run.stdout:
        seen.append(line.rstrip())
        if line.startswith(f"▶ {stage}"):
            time.sleep(0.2)
            run.send_signal(signal.SIGKILL)  # the scenario: only the main process dies
            run.wait(timeout=30)
            break
    else:
        pytest.fail(f"run ended before stage {stage!r}: {seen}")
    with contextlib.suppress(ProcessLookupError):  # its orphaned workers: ours to reap
        os.killpg(run.pid, signal.SIGKILL)
    run.stdout.close()
    return seen


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_sigkill_at_each_stage_leaves_the_warehouse_unchanged(
    built: Built, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = tmp_path_factory.mktemp("kill_data")
    # In a child: the generator forks workers, unsafe in a process already running DuckDB threads.
    subprocess.run(
        [sys.executable, "-m", "models_py.cli", "generate", "--out", str(data), "--seed", "11",
         *(f"--{k}={v}" for k, v in TINY.items())],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("kill_wh")
    target = folder / "warehouse.duckdb"
    target.write_bytes(built.warehouse.read_bytes())  # the previously published warehouse
    before = sha256(target)
    left_by_kills: set[str] = set()
    for stage in STAGES:
        # Each run must also get past the stage where the previous one died.
        seen = kill_during(start_run(data, target), stage)
        assert sha256(target) == before, (stage, seen)
        left_by_kills.update(leftovers(folder))
        with duckdb.connect(str(target), read_only=True) as con:
            assert con.execute("select count(*) from main.reels").fetchall()[0][0] > 0
    final = start_run(data, target)
    out, _ = final.communicate(timeout=900)
    assert final.returncode == 0, out
    assert sha256(target) != before
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from main.model_runs").fetchall()[0][0] > 0
    # The killed runs did leave a half-built file and their lock file; the next run removed
    # them (and any WAL).
    assert {"warehouse.duckdb.building", "warehouse.duckdb.lock"} <= left_by_kills
    assert leftovers(folder) == ["warehouse-report.html", "warehouse.duckdb"]


def test_stale_build_of_a_dead_run_is_removed(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    build = warehouse.building_path(target)
    build.write_bytes(b"half a database")
    build.with_name(build.name + ".wal").write_bytes(b"wal")
    (tmp_path / "warehouse.duckdb.building.tmp").mkdir()
    (tmp_path / "warehouse.duckdb.building.tmp" / "spill.block").write_bytes(b"x")
    (tmp_path / "unrelated.duckdb.wal").write_bytes(b"not ours")
    (tmp_path / "warehouse-report.html.building").write_text("half a report")
    (tmp_path / "warehouse-report.html.building.partial").write_text("a third")
    pipeline.run(
        built.data / "raw", target, generate_if_empty=False, score_models=False,
        report=False, echo=lambda _: None,
    )  # fmt: skip
    assert leftovers(tmp_path) == ["unrelated.duckdb.wal", "warehouse.duckdb"]


def test_a_second_run_on_the_same_warehouse_is_refused(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    held = warehouse.lock_build(target)  # a run in progress
    try:
        warehouse.building_path(target).write_bytes(b"the other run's work")
        with pytest.raises(ReelRecError, match="another reelrec run is building"):
            pipeline.run(built.data / "raw", target, generate_if_empty=False, echo=lambda _: None)
        # Its build in progress is not mistaken for a dead run's leftovers.
        assert warehouse.building_path(target).read_bytes() == b"the other run's work"
        assert warehouse.lock_path(target).exists()  # the refused run left the holder's lock
    finally:
        held.close()
    assert not warehouse.lock_path(target).exists()  # its holder removed it


def test_a_run_that_opened_the_lock_file_as_its_holder_removed_it_still_excludes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run B opens the lock file, then its holder A finishes (removes the file, releases its
    lock) before B locks: B must not hold a lock on the removed file while C locks a new one."""
    target = tmp_path / "warehouse.duckdb"
    first = warehouse.lock_build(target)
    flock = warehouse.fcntl.flock
    pending = [first]

    def holder_finishes_first(fh: object, op: int) -> None:
        while pending:
            pending.pop().close()
        flock(fh, op)

    monkeypatch.setattr(warehouse.fcntl, "flock", holder_finishes_first)
    second = warehouse.lock_build(target)
    monkeypatch.undo()
    try:
        with pytest.raises(ReelRecError, match="another reelrec run is building"):
            warehouse.lock_build(target)
    finally:
        second.close()
    warehouse.lock_build(target).close()
    assert not warehouse.lock_path(target).exists()
