"""The command line's bounds and its word on failure: list sizes have a floor and a ceiling
and never outgrow the catalogue (checked under an address-space cap), and "the previous
warehouse is untouched" is said only when it is true."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from models_py.cli.commands import main
from models_py.dbt_vars import MAX_LIST_LENGTH
from models_py.errors import ReelRecError
from tests.conftest import Built
from tests.files import HEADER, reel_row
from tests.hostile_files import write_csv
from tests.memory_cap import run_capped

GIB = 2**30


@pytest.mark.parametrize(
    "command",
    [
        ["recommend", "x", "-n"],
        ["similar", "x", "-n"],
        ["new", "x", "--bio", "", "--followers", "10", "-n"],
        ["run", "--top-n"],
    ],
    ids=["recommend", "similar", "new", "run"],
)
@pytest.mark.parametrize("n", ["0", "-5", "ten", "2.5", str(MAX_LIST_LENGTH + 1), "1000000000"])
def test_list_length_is_refused_outside_one_to_the_ceiling(
    command: list[str], n: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, n, "--warehouse", "/nonexistent/w.duckdb"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"from 1 to {MAX_LIST_LENGTH}" in err, err
    assert "Traceback" not in err


def test_a_billion_songs_for_a_new_influencer_is_refused_within_the_cap(tmp_path: Path) -> None:
    result = run_capped(
        f"""
        import sys
        from models_py.cli.commands import main
        cap({GIB})
        # -n first: argparse stops at the first bad value, before --followers starts DuckDB,
        # which can crash rather than raise when the capped address space runs out.
        sys.exit(main(["new", "x", "-n", "1000000000", "--bio", "", "--followers", "10",
                       "--warehouse", {str(tmp_path / "w.duckdb")!r}]))
        """
    )
    assert result.returncode == 2 and "from 1 to" in result.stderr, result.stderr


@pytest.mark.slow
def test_new_influencer_lists_stop_at_the_catalogue(built: Built) -> None:
    """Past the argument check, n still sizes no array: a billion asks for the catalogue."""
    result = run_capped(
        f"""
        from pathlib import Path
        from models_py.cli.lookup import new_influencer_recommendations
        warehouse = Path({str(built.warehouse)!r})
        new_influencer_recommendations(warehouse, "newbie", "dance", 5000, 10)
        cap({GIB})
        picks = new_influencer_recommendations(warehouse, "newbie", "dance", 5000, 10**9)
        print(len(picks.rows))
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert 0 < int(result.stdout) <= 500  # the small warehouse's catalogue


@pytest.mark.slow
def test_scoring_lists_stop_at_the_catalogue(built: Built, tmp_path: Path) -> None:
    """run_scoring sizes its lists by top_n: one past the catalogue is cut to it."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(built.warehouse, copy)
    result = run_capped(
        f"""
        import duckdb
        from models_py.scoring.runner import run_scoring
        with duckdb.connect({str(copy)!r}) as con:
            n_songs = con.execute("select count(*) from main.songs").fetchall()[0][0]
            cap({4 * GIB})
            run_scoring(con, run_id="t", top_n=10**9, truth_dir=None, workers=1,
                        echo=lambda _: None)
            longest = con.execute(
                "select max(rank) from scores.recommendations"
            ).fetchall()[0][0]
        print(longest <= n_songs)
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "True"


def _internal_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """A stand-in that fails like a bug would; reelrec-error.log goes to tmp_path."""
    monkeypatch.chdir(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    return fail


def test_read_only_commands_never_claim_the_warehouse_untouched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import models_py.cli.lookup as lookup

    monkeypatch.setattr(lookup, "recommendations", _internal_error(monkeypatch, tmp_path))
    assert main(["recommend", "x", "--warehouse", str(tmp_path / "w.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "untouched" not in err


def test_errors_are_one_plain_line_off_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """dbt colours its messages; stderr that is no terminal gets neither colour nor breaks."""
    import models_py.cli.lookup as lookup

    def coloured(*args: object) -> None:
        raise ReelRecError("\x1b[31mFailure in unit_test\x1b[0m\n  \x1b[1mdetails\x1b[0m")

    monkeypatch.setattr(lookup, "recommendations", coloured)
    assert main(["recommend", "x"]) == 2
    assert capsys.readouterr().err == "reelrec: error: Failure in unit_test details\n"


def _previous(tmp_path: Path) -> tuple[Path, bytes]:
    """A previous warehouse: a DuckDB file (a run refuses to replace any other kind)."""
    target = tmp_path / "wh" / "warehouse.duckdb"
    target.parent.mkdir()
    with duckdb.connect(str(target)) as con:
        con.execute("create table previous as select 1 as x").fetchall()
    return target, target.read_bytes()


def test_a_run_failing_before_publishing_says_untouched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target, before = _previous(tmp_path)
    monkeypatch.setattr(pipeline, "load_folder", _internal_error(monkeypatch, tmp_path))
    assert main(["run", "--input", str(tmp_path), "--warehouse", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.rstrip().endswith("; the previous warehouse is untouched")
    assert target.read_bytes() == before


@pytest.mark.parametrize(("fault", "code"), [(OSError("disk full"), 1), (KeyboardInterrupt(), 130)])
def test_a_run_failing_once_publishing_began_does_not_say_untouched(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault: BaseException,
    code: int,
) -> None:
    """The new pair is put in place, then the run fails: the old warehouse is gone."""
    import models_py.scoring.runner as runner
    import models_py.warehouse.publish as publish

    monkeypatch.chdir(tmp_path)
    target, before = _previous(tmp_path)
    data = tmp_path / "in"
    data.mkdir()
    write_csv(data / "reels.csv", [HEADER, reel_row(1), reel_row(2)])
    monkeypatch.setattr(pipeline, "run_dbt", lambda *args, **kwargs: "dbt skipped")
    monkeypatch.setattr(runner, "run_scoring", lambda *args, **kwargs: None)

    def fail_after_the_switch(*args: object) -> None:
        raise fault

    monkeypatch.setattr(publish, "_settle", fail_after_the_switch)
    args = ["run", "--input", str(data), "--warehouse", str(target), "--no-report"]
    assert main(args) == code
    err = capsys.readouterr().err
    assert "untouched" not in err and f"publishing had begun, so {target}" in err, err
    assert target.read_bytes() != before
