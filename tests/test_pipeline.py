"""End to end on a small generated dataset: load, dbt build (models and data tests),
publish — checked row by row against the generator's planted truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from models_py import dbt_vars, pipeline
from models_py.contract import CLEANING_RULES, project_vars
from models_py.errors import ReelRecError
from models_py.synth.dirt import REJECT_RULES
from models_py.warehouse import file as warehouse
from tests.conftest import Built

pytestmark = pytest.mark.slow


def query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).df()


def truth_rows(built: Built) -> pd.DataFrame:
    return pd.read_parquet(built.data / "truth" / "rows.parquet")


def test_every_rejected_row_has_the_planted_rule(built: Built) -> None:
    truth = truth_rows(built)
    expected = truth[truth["expected_rule"].notna()][["source_file", "source_row", "expected_rule"]]
    got = query(
        built.warehouse,
        "select source_file, source_row, rejection_rule from quarantined_reels",
    )
    merged = expected.merge(got, on=["source_file", "source_row"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    mismatched = merged[merged["expected_rule"] != merged["rejection_rule"]]
    assert mismatched.empty, mismatched.head(10)
    # Every kind of dirt the generator plants is exercised on this data.
    assert set(got["rejection_rule"]) >= set(REJECT_RULES)


def test_clean_rows_carry_the_planted_rating(built: Built) -> None:
    truth = truth_rows(built)
    kept = truth[truth["expected_rule"].isna()]
    got = query(
        built.warehouse, "select source_file, source_row, influencer_id, song_id, delta from reels"
    )
    assert len(got) == len(kept)
    merged = kept.merge(got, on=["source_file", "source_row"], suffixes=("_truth", ""))
    assert len(merged) == len(kept)
    assert (merged["influencer_id_truth"] == merged["influencer_id"]).all()
    assert (merged["song_id_truth"] == merged["song_id"]).all()
    known = merged["delta_truth"].notna()
    assert (merged.loc[known, "delta"] - merged.loc[known, "delta_truth"]).abs().max() < 1e-5
    # A blank Delta is derived from Curr_ER − ER, so every clean row has a rating.
    assert merged["delta"].notna().all()


def test_audit_counts_each_files_rows_by_rule_as_planted(built: Built) -> None:
    """source_file_audit's pivot, per file and rule, against the generator's truth (dbt's
    conservation test only checks the counts add up, not that they are the right ones)."""
    audit = query(built.warehouse, "select * from source_file_audit").set_index("source_file")
    truth = truth_rows(built)
    planted = pd.crosstab(truth["source_file"], truth["expected_rule"].fillna("clean"))
    planted = planted.reindex(columns=[*CLEANING_RULES, "clean"], fill_value=0)
    assert sorted(audit.index) == sorted(planted.index) == ["data1.xlsx", "data2.xlsx"]
    for rule in CLEANING_RULES:
        assert audit[f"rows_{rule}"].sort_index().tolist() == planted[rule].sort_index().tolist()
    assert audit["rows_clean"].sort_index().tolist() == planted["clean"].sort_index().tolist()
    assert audit["rows_read"].sort_index().tolist() == planted.sum(axis=1).sort_index().tolist()


def test_dimensions_match_the_truth(built: Built) -> None:
    truth = truth_rows(built)
    kept = truth[truth["expected_rule"].isna()]
    influencers = query(built.warehouse, "select influencer_id, tier from influencers")
    songs = query(built.warehouse, "select song_id, user_count from songs")
    assert set(influencers["influencer_id"]) == set(kept["influencer_id"])
    assert set(songs["song_id"]) == set(kept["song_id"])
    planted = pd.read_parquet(built.data / "truth" / "influencers.parquet")
    tiers = influencers.merge(
        planted[["influencer_id", "tier"]], on="influencer_id", suffixes=("", "_truth")
    )
    # "3.3k" style followers round a little, so an account on a tier boundary may move.
    assert (tiers["tier"] == tiers["tier_truth"]).mean() > 0.99
    counts = kept.groupby("song_id")["influencer_id"].nunique()
    assert (
        songs.set_index("song_id")["user_count"]
        .sort_index()
        .equals(counts.sort_index().rename("user_count"))
    )


def test_published_without_leftovers(built: Built) -> None:
    assert built.warehouse.exists()
    assert not warehouse.building_path(built.warehouse).exists()
    schemas = query(built.warehouse, "select distinct schema_name from information_schema.schemata")
    assert {"raw", "staging", "intermediate", "main"} <= set(schemas["schema_name"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failed_run_leaves_previous_warehouse_untouched(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(built.warehouse.read_bytes())
    before = _sha(target)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "data1.xlsx").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ReelRecError, match="data1.xlsx: cannot read"):
        pipeline.run(bad, target, generate_if_empty=False, echo=lambda _: None)
    assert _sha(target) == before
    assert not warehouse.building_path(target).exists()


def test_failing_dbt_build_blocks_publication(
    small_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose dbt build fails must not publish. Here a var that is no number gets past
    the run's own check (switched off) and is stopped by dbt's (macros/settings.sql)."""
    defaults = dbt_vars.check({}, project_vars())
    monkeypatch.setattr(pipeline, "checked_vars", lambda overrides: defaults)
    target = tmp_path / "warehouse.duckdb"
    with pytest.raises(
        ReelRecError, match="(?s)dbt build could not run: .*var max_er must be a finite number"
    ):
        pipeline.run(
            small_data / "raw",
            target,
            dbt_vars={"max_er": "twelve"},
            generate_if_empty=False,
            echo=lambda _: None,
        )
    assert not target.exists()
    assert not warehouse.building_path(target).exists()


def test_run_settings_record_every_var_of_the_build(built: Built) -> None:
    """Every dbt var is in run_settings, with the value this build used (overrides included)."""
    import yaml

    from models_py.contract import DBT_PROJECT
    from tests.conftest import SMALL_VARS

    defaults = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
    recorded = dict(
        query(built.warehouse, "select setting, setting_value from run_settings").itertuples(
            index=False
        )
    )
    # Every var, and the method the run chose (tests/test_selection.py).
    assert recorded.pop("default_method")
    assert set(recorded) == set(defaults)
    for name, value in SMALL_VARS.items():
        assert recorded[name] == str(value)
    assert recorded["max_er"] == str(defaults["max_er"])
    assert recorded["run_id"] != "adhoc"  # the run's fingerprint, not the placeholder
    # What the warehouse records reads back through the same declared ranges.
    assert dbt_vars.from_settings(recorded.items()).min_user_count == SMALL_VARS["min_user_count"]
