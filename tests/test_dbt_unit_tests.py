"""dbt's unit tests: `reelrec run` skips them (they check the SQL on fixed inputs, not the
user's data), so the suite runs every one of them against a built warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from models_py.contract import DBT_PROJECT
from models_py.warehouse.dbt_runner import run_dbt
from tests.conftest import Built

pytestmark = pytest.mark.slow


def declared_unit_tests() -> list[str]:
    names = []
    for path in sorted((DBT_PROJECT / "models").rglob("*.yml")):
        names += [t["name"] for t in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])]
    return names


def test_every_dbt_unit_test_passes(built: Built, tmp_path: Path) -> None:
    declared = declared_unit_tests()
    assert len(declared) >= 10 and len(set(declared)) == len(declared)
    # The run's own builds leave them out ...
    assert "unit test" not in built.output
    # ... and every one passes here (run_dbt raises, naming the failure, if one does not).
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    summary = run_dbt("test", copy, select="test_type:unit", quiet=True)
    assert summary == f"{len(declared)} unit tests — all passed"
