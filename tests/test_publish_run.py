"""Paths through whole runs and commands on a built warehouse: a symlinked warehouse is
published where it points, a publish that fails says so truthfully and leaves the old pair, and
exports ask before replacing anything."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from models_py.cli.commands import main
from models_py.warehouse import publish
from models_py.warehouse.publish import NothingPublished
from tests.conftest import SMALL_VARS, Built

pytestmark = pytest.mark.slow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quick_run(built: Built, warehouse: Path, **options) -> pipeline.RunResult:
    return pipeline.run(
        built.data / "raw", warehouse, dbt_vars=SMALL_VARS, generate_if_empty=False,
        score_models=False, echo=options.pop("echo", lambda _: None), **options,
    )  # fmt: skip


def test_a_symlinked_warehouse_is_published_to_its_target(built: Built, tmp_path: Path) -> None:
    real = tmp_path / "store" / "real.duckdb"
    real.parent.mkdir()
    real.write_bytes(built.warehouse.read_bytes())
    before = sha(real)
    link = tmp_path / "warehouse.duckdb"
    link.symlink_to(real)
    result = quick_run(built, link)
    assert link.is_symlink() and link.resolve() == real and sha(real) != before
    assert result.report == tmp_path / "store" / "real-report.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "warehouse.duckdb"]


def test_a_report_path_turned_folder_at_publish_leaves_the_old_pair(
    built: Built, tmp_path: Path
) -> None:
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(built.warehouse.read_bytes())
    report = pipeline.report_path_for(target)
    before = sha(target)

    def echo(line: str) -> None:
        # After the up-front checks, while the report renders: the report's name becomes a
        # folder, so its rename at publish fails.
        if line.startswith("▶ render the HTML report"):
            report.mkdir()

    with pytest.raises(NothingPublished, match="previous warehouse and report are unchanged"):
        quick_run(built, target, echo=echo)
    assert sha(target) == before and report.is_dir()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["warehouse-report.html", "warehouse.duckdb"]


def test_a_run_first_finishes_the_publish_a_killed_run_left(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    report = pipeline.report_path_for(target)
    for path in (target, tmp_path / "warehouse.duckdb.building"):
        path.write_bytes(built.warehouse.read_bytes())
    report.write_text("<!doctype html>killed run's report")  # its rename was done
    (tmp_path / "warehouse-report.html.previous").write_text("<!doctype html>old report")
    publish.journal_path(target).write_text(
        json.dumps({"build": "warehouse.duckdb.building", "report": report.name,
                    "staged_report": "warehouse-report.html.building"})
    )  # fmt: skip
    said: list[str] = []
    quick_run(built, target, echo=said.append)
    assert any("finished publishing the run that was interrupted" in line for line in said)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["warehouse-report.html", "warehouse.duckdb"]


def test_no_report_removes_the_report_of_the_previous_build(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(built.warehouse.read_bytes())
    report = pipeline.report_path_for(target)
    report.write_text("<!doctype html><p>the previous build's report</p>")
    assert quick_run(built, target, report=False).report is None
    assert not report.exists()


def test_recommend_asks_before_replacing_an_export(
    built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "picks.csv"
    argv = ["similar", "x", "--warehouse", str(built.warehouse), "--output", str(out)]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        argv[1] = con.execute("select song_id from song_neighbours limit 1").fetchall()[0][0]
    assert main(argv) == 0
    first = out.read_bytes()
    assert main(argv) == 2 and "pass --force" in capsys.readouterr().err
    assert out.read_bytes() == first
    assert main([*argv, "--force"]) == 0 and sorted(tmp_path.iterdir()) == [out]
