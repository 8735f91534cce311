"""Content, the cold-start evaluation and new influencers in the small generated warehouse (slow):
the cold holdouts, the metrics per scenario, the content picks' reasons, and `reelrec new`."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from models_py.cli.commands import main
from tests.conftest import Built


def query(built: Built, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        return con.execute(sql).df()


@pytest.mark.slow
def test_cold_holdouts_are_about_ten_percent_whole_and_disjoint_from_training(
    built: Built,
) -> None:
    splits = query(built, "select * from cold_start_splits")
    songs = splits[splits["scenario"] == "cold_song"]
    users = splits[splits["scenario"] == "cold_influencer"]
    for frame, key in ((songs, "song_id"), (users, "influencer_id")):
        per_entity = frame.groupby(key)["split"].nunique()
        assert (per_entity == 1).all()  # held out whole
        share = frame.loc[frame["split"] == "test", key].nunique() / frame[key].nunique()
        assert 0.06 < share < 0.14, share
    # The lists of the cold_song scenario rank only held-out songs.
    cold_songs = set(songs.loc[songs["split"] == "test", "song_id"])
    lists = query(
        built,
        "select * from staging.stg_scores__evaluation_recommendations where scenario = 'cold_song'",
    )
    assert set(lists["method"]) == {"content"}
    assert set(lists["song_id"]) <= cold_songs
    new = query(
        built,
        "select distinct influencer_id from staging.stg_scores__evaluation_recommendations "
        "where scenario = 'cold_influencer'",
    )
    held_out = set(users.loc[users["split"] == "test", "influencer_id"])
    assert set(new["influencer_id"]) <= held_out


@pytest.mark.slow
def test_metrics_per_scenario_with_popularity_baselines(built: Built) -> None:
    metrics = query(
        built,
        "select method, scenario, metric, relevance, value from model_metrics "
        "where metric in ('map', 'recall') and relevance = 'used'",
    ).set_index(["scenario", "method", "metric"])["value"]
    for method in ("content", "hybrid"):
        assert ("warm", method, "map") in metrics.index
    assert ("cold_song", "content", "recall") in metrics.index
    assert ("cold_song", "count", "map") in metrics.index
    assert ("cold_influencer", "similar_influencers", "map") in metrics.index
    assert ("cold_influencer", "tier_count", "map") in metrics.index
    # The small dataset's shelf of ~50 new songs is too small to rank methods on (one list
    # of 10 covers a fifth of it); test_content_beats_chance_on_new_songs does that.
    assert metrics.between(0, 1).all()


@pytest.mark.slow
def test_content_picks_name_the_used_song_behind_them(built: Built) -> None:
    recs = query(
        built,
        "select r.reason, r.because_used_song_id, used.song_id is not null as was_used "
        "from recommendations r left join reels used "
        "on used.influencer_id = r.influencer_id and used.song_id = r.because_used_song_id "
        "where r.method = 'content'",
    )
    named = recs[recs["because_used_song_id"].notna()]
    assert len(named) > 0.5 * len(recs) and named["was_used"].all()
    assert named["reason"].str.contains("which you used").all()
    assert recs["reason"].str.contains("same artist as").any()
    neighbours = query(built, "select count(*) as n from song_neighbours where method = 'content'")
    assert neighbours["n"][0] > 0


@pytest.mark.slow
def test_new_influencer_from_the_command_line(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = str(built.warehouse)
    code = main(["new", "brand_new_dancer", "--bio", "Dancer 💃 | Mumbai", "--followers", "5000",
                 "-n", "5", "--warehouse", wh])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "@brand_new_dancer (nano)" in out
    assert len([line for line in out.splitlines() if line[:1].isdigit()]) == 5
    # No bio: tier popularity, said so.
    assert main(["new", "quiet_one", "--bio", "", "--followers", "200000", "--warehouse", wh]) == 0
    assert "celebrity popularity" in capsys.readouterr().out
    # Missing inputs and known handles are clear errors, not tracebacks.
    with pytest.raises(SystemExit) as missing:
        main(["new", "someone", "--bio", "x", "--warehouse", wh])
    assert missing.value.code == 2 and "--followers" in capsys.readouterr().err
    known = query(built, "select handle from influencers where handle is not null limit 1")
    handle = known["handle"][0]
    assert main(["new", handle, "--bio", "x", "--followers", "10", "--warehouse", wh]) == 2
    err = capsys.readouterr().err
    assert "already in the warehouse" in err and "Traceback" not in err
    # Hostile text stays a bound parameter.
    hostile = "x'; drop table main.songs; --"
    assert main(["new", hostile, "--bio", hostile, "--followers", "1", "--warehouse", wh]) == 0
    assert query(built, "select count(*) as n from songs")["n"][0] > 0


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> Path:
    """A copy of the built warehouse, for a test to edit."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, path)
    return path


def edit(path: Path, sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql).fetchall()


@pytest.mark.slow
def test_new_influencer_tier_follows_the_builds_cut_offs(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A warehouse built with --var celebrity_followers=… places new influencers by it too."""
    args = ["new", "rising_star", "--bio", "x", "--followers", "50000", "--warehouse", str(copy)]
    assert main(args) == 0
    assert "@rising_star (micro)" in capsys.readouterr().out
    edit(
        copy,
        "update main.run_settings set setting_value = '40000' "
        "where setting = 'celebrity_followers'",
    )
    assert main(args) == 0
    assert "@rising_star (celebrity)" in capsys.readouterr().out


@pytest.mark.slow
def test_new_influencer_followers_as_files_write_them_and_the_tier_it_really_used(
    built: Built, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["new", "rising_star", "--bio", "Dancer", "--followers", "50m", "--warehouse", str(copy)]
    assert main(args) == 0
    assert "@rising_star (celebrity), from celebrity popularity" in capsys.readouterr().out
    # No celebrity in the warehouse: every tier's influencers are used, and it says so.
    edit(
        copy,
        "update intermediate.int_influencers_profiled set tier = 'micro' where tier = 'celebrity'",
    )
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(celebrity), from popularity across all tiers" in out, out
    assert "the warehouse has no celebrity influencer" in out
    assert "of all influencers" in out and "celebrity influencers" not in out
    for followers, tier in (("6,200", "nano"), ("1.2k", "nano"), ("12.5K", "micro")):
        assert main([*args[:4], "--followers", followers, *args[6:]]) == 0
        assert f"@rising_star ({tier})" in capsys.readouterr().out
    for junk in ("lots", "2.5", "-3", "NaN%"):
        with pytest.raises(SystemExit) as refused:
            main([*args[:4], "--followers", junk, *args[6:]])
        assert refused.value.code == 2 and "is not a follower count" in capsys.readouterr().err
    # A known influencer, in any spelling of its handle, is not new.
    known = query(built, "select handle from influencers where handle is not null limit 1")
    for typed in (f"@{known['handle'][0].upper()}", f"instagram.com/{known['handle'][0]}"):
        assert main([*args[:1], typed, *args[2:4], "--followers", "10", *args[6:]]) == 2
        assert f"'{known['handle'][0]}' is already in" in capsys.readouterr().err
