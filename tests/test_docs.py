"""`dbt docs generate` works offline on a built warehouse and documents every mart column."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models_py.contract import DBT_PROJECT
from models_py.warehouse import dbt_runner
from tests.conftest import Built

pytestmark = pytest.mark.slow


def test_docs_generate_offline_describes_every_mart_column(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dbt writes its target and logs inside the project: a copy keeps the shared
    # dbt_project/target (which concurrent runs use) untouched.
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(dbt_runner, "DBT_PROJECT", project)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    dbt_runner.run_dbt("docs", copy, quiet=True, command_args=["generate"])
    target = project / "target"
    assert (target / "index.html").exists()
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    marts = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "/marts/" in node["original_file_path"]
    }
    assert {"reels", "influencers", "songs", "recommendations", "model_metrics"} <= set(marts)
    for name, node in marts.items():
        assert node["description"].strip(), name
        built_columns = catalog["nodes"][node["unique_id"]]["columns"]
        undocumented = [
            c for c in built_columns if not node["columns"].get(c, {}).get("description")
        ]
        assert undocumented == [], (name, undocumented)
