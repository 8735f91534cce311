"""The dbt project's structure, checked on the manifest `dbt parse` writes: each layer reads
only what is upstream of it (dbt Labs' staging → intermediate → marts), lands in its own
schema, and the cleaning rules the SQL applies are the contract's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from models_py.contract import CLEANING_RULES, DBT_PROJECT

# What a model of each layer may read: staging alone touches sources; intermediate never
# reads a mart (analysts' tables are an output, not an input); marts read any model.
MAY_READ = {
    "staging": {"source"},
    "intermediate": {"staging", "intermediate"},
    "marts": {"staging", "intermediate", "marts"},
}
SCHEMA = {"staging": "staging", "intermediate": "intermediate", "marts": "main"}

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The project parsed into a temporary target (never the shared dbt_project/target)."""
    import json

    from dbt.cli.main import dbtRunner

    tmp = tmp_path_factory.mktemp("dbt_parse")
    args = ["parse", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    args += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet"]
    result = dbtRunner().invoke(args)
    assert result.success, result.exception
    return json.loads((tmp / "target" / "manifest.json").read_text())


def models(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}


def layer(node: dict[str, Any]) -> str:
    """A model's layer is its top folder under models/; a source is 'source'."""
    return "source" if node["resource_type"] == "source" else node["fqn"][1]


def layer_violations(manifest: Manifest) -> list[str]:
    """Every edge from a model to something its layer may not read, as 'model → parent'."""
    nodes = {**manifest["nodes"], **manifest["sources"]}
    problems = []
    for node in models(manifest).values():
        allowed = MAY_READ.get(layer(node), set())
        for parent in node["depends_on"]["nodes"]:
            if layer(nodes[parent]) not in allowed:
                problems.append(
                    f"{node['name']} ({layer(node)}) → {nodes[parent]['name']} "
                    f"({layer(nodes[parent])})"
                )
    return sorted(problems)


def _node(name: str, folder: str, *parents: str) -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "fqn": ["reelrec", folder, name],
        "depends_on": {"nodes": [f"model.reelrec.{p}" for p in parents]},
    }


def test_layer_check_names_every_edge_against_the_flow() -> None:
    nodes = [
        _node("stg_a", "staging"),
        _node("stg_b", "staging", "int_a"),  # staging reading intermediate
        _node("int_a", "intermediate", "stg_a"),
        _node("int_b", "intermediate", "int_a", "mart_a"),  # intermediate reading a mart
        _node("mart_a", "marts", "int_a", "stg_a"),
        _node("mart_b", "marts", "mart_a"),
        _node("stray", "elsewhere", "stg_a"),  # a model outside the three layers
    ]
    nodes[0]["depends_on"]["nodes"] = ["source.reelrec.raw.reels"]
    nodes[4]["depends_on"]["nodes"].append("source.reelrec.raw.reels")  # a mart on a source
    manifest = {
        "nodes": {f"model.reelrec.{n['name']}": n for n in nodes},
        "sources": {"source.reelrec.raw.reels": {"resource_type": "source", "name": "reels"}},
    }
    assert layer_violations(manifest) == [
        "int_b (intermediate) → mart_a (marts)",
        "mart_a (marts) → reels (source)",
        "stg_b (staging) → int_a (intermediate)",
        "stray (elsewhere) → stg_a (staging)",
    ]


def test_every_model_reads_only_upstream_layers(manifest: Manifest) -> None:
    assert layer_violations(manifest) == []


def test_each_layer_lands_in_its_schema_set_per_folder(manifest: Manifest) -> None:
    nodes = models(manifest).values()
    assert {layer(n) for n in nodes} == set(SCHEMA)
    misplaced = [n["name"] for n in nodes if n["schema"] != SCHEMA[layer(n)]]
    assert misplaced == []
    # The folder's +schema in dbt_project.yml decides it, not a config() in the file.
    per_file = [n["name"] for n in nodes if re.search(r"config\([^)]*schema", n["raw_code"])]
    assert per_file == []


def test_every_model_and_listed_column_is_described(manifest: Manifest) -> None:
    undescribed = [
        f"{n['name']}.{column}" if column else n["name"]
        for n in models(manifest).values()
        for column, described in [(None, n["description"])]
        + [(c, spec["description"]) for c, spec in n["columns"].items()]
        if not described.strip()
    ]
    assert undescribed == []


def test_validated_reels_apply_the_contracts_rules_in_its_order(manifest: Manifest) -> None:
    """Precedence is the order of the `case` branches; the contract lists the same order."""
    (validated,) = [n for n in models(manifest).values() if n["name"] == "int_reels_validated"]
    applied = re.findall(r"then '(\w+)'", validated["raw_code"])
    assert tuple(applied) == CLEANING_RULES
