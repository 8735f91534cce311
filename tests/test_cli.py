"""The `reelrec` command line on a built warehouse: answers, clear errors, bound parameters."""

from __future__ import annotations

import duckdb
import pytest

from models_py import pipeline
from models_py.cli.commands import main
from models_py.errors import ReelRecError
from tests.conftest import Built

pytestmark = pytest.mark.slow


def some_handle(built: Built) -> str:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return con.execute("select handle from influencers order by handle limit 1").fetchall()[0][
            0
        ]


def test_recommend_by_handle_or_url(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    handle = some_handle(built)
    url = f"HTTPS://instagram.com/{handle.upper()}?igshid=x"
    for who in (
        handle,
        f"@{handle}",
        url,
        f"instagram.com/{handle}",
        f"www.instagram.com/{handle}/",
    ):
        code = main(
            ["recommend", who, "--method", "count", "-n", "3", "--warehouse", str(built.warehouse)]
        )
        out = capsys.readouterr().out
        assert code == 0 and f"(@{handle})" in out
        assert len([line for line in out.splitlines() if line.startswith("count ")]) == 3


def test_unknown_influencer_suggests_close_handles(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    handle = some_handle(built)
    code = main(["recommend", handle + "zz", "--warehouse", str(built.warehouse)])
    err = capsys.readouterr().err
    assert code == 2 and "closest:" in err and handle in err and "Traceback" not in err
    # An unknown method lists the influencer's methods.
    code = main(["recommend", handle, "--method", "nope", "--warehouse", str(built.warehouse)])
    err = capsys.readouterr().err
    assert code == 2 and "no method 'nope'" in err and "content" in err and "count" in err


def test_similar_by_id_and_title(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        song_id, title = con.execute(
            "select song_id, title from songs "
            "where song_id in (select song_id from song_neighbours) "
            "order by user_count desc limit 1"
        ).fetchall()[0]
    for what in (song_id, song_id.lower(), title):
        assert main(["similar", what, "-n", "2", "--warehouse", str(built.warehouse)]) == 0
        out = capsys.readouterr().out
        assert "Songs similar to" in out and len(out.splitlines()) == 4


@pytest.mark.parametrize(
    "hostile",
    ["x'; drop table main.songs; --", 'a" or 1=1 --', "'); delete from main.reels; select ('"],
)
def test_user_input_never_becomes_sql(
    built: Built, capsys: pytest.CaptureFixture[str], hostile: str
) -> None:
    before = built.warehouse.read_bytes()
    assert main(["recommend", hostile, "--warehouse", str(built.warehouse)]) == 2
    assert main(["similar", hostile, "--warehouse", str(built.warehouse)]) == 2
    assert (
        main(
            [
                "recommend",
                some_handle(built),
                "--method",
                hostile,
                "--warehouse",
                str(built.warehouse),
            ]
        )
        == 2
    )
    capsys.readouterr()
    assert built.warehouse.read_bytes() == before


@pytest.mark.parametrize("command", ["run", "recommend", "new", "similar", "report", "generate"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and "usage: reelrec" in capsys.readouterr().out


def test_missing_warehouse_is_a_clear_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", "x", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    assert "no warehouse at" in capsys.readouterr().err


def test_run_reports_every_stage_and_where_things_are(built: Built) -> None:
    out = built.output
    stages = [
        "▶ load",
        "▶ dbt build (clean",
        "▶ fit and score models",
        "▶ dbt build of the score marts",
        "▶ render the HTML report",
    ]
    positions = [out.index(s) for s in stages]
    assert positions == sorted(positions)  # in pipeline order
    assert out.count(" done in ") >= len(stages)
    assert "Rows in:" in out and "quarantined by duplicate_url_song:" in out
    assert "Metrics at k = 10" in out and "oracle" in out and "global_mean" in out
    assert f"Warehouse: {built.warehouse}" in out
    assert f"Report: {pipeline.report_path_for(built.warehouse)}" in out
    assert "Example: top picks for" in out


def test_run_options_become_dbt_vars(monkeypatch, tmp_path) -> None:
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        raise ReelRecError("stop here")

    monkeypatch.setattr(pipeline, "run", fake_run)
    code = main(
        ["run", "--input", str(tmp_path), "--top-n", "12", "--var", "max_er=10", "--no-report"]
    )
    assert code == 2
    assert seen["dbt_vars"] == {"max_er": 10, "top_n": 12}
    assert seen["report"] is False and seen["generate_if_empty"] is False


@pytest.mark.parametrize("separator", [[], ["--"]])
def test_generate_passes_its_options_on(tmp_path, separator: list[str]) -> None:
    """`reelrec generate --scale N` and `reelrec generate -- --scale N` both reach the generator."""
    out = tmp_path / "gen"
    assert main(["generate", *separator, "--scale", "2000", "--out", str(out)]) == 0
    assert [p.name for p in (out / "raw").iterdir()] == ["part-00001.parquet"]


def test_unknown_option_of_other_commands_is_still_refused(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["similar", "x", "--bogus"])
    assert exit_.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
