"""The dbt build's own model SQL, run bare in DuckDB: what dbt adds on top of its SQL.

After a build, dbt's manifest holds every model's compiled SQL and its run_results every node's
seconds. This replays the models alone, in DAG order, as ``create or replace table|view
<relation> as <compiled SQL>`` on a copy of the built warehouse with every model dropped (so
the loaded sources only, as before dbt), one statement at a time on one connection with the
profile's DuckDB settings, and times them. No tests, no dbt process, no adapter overhead.

    python -m scripts.benchmarks.dbt_bare --warehouse W --artifacts DIR
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb

# The settings profiles.yml gives dbt's DuckDB connection (same env overrides and defaults).
SETTINGS = {
    "memory_limit": os.environ.get("REELREC_DUCKDB_MEMORY_LIMIT", "10GB"),
    "max_temp_directory_size": os.environ.get("REELREC_DUCKDB_MAX_TEMP", "40GB"),
    "preserve_insertion_order": "false",
}


def models_in_build_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's models, each after every model it depends on (ties by name, stable)."""
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    done: set[str] = set()
    order: list[dict[str, Any]] = []

    def visit(key: str, path: tuple[str, ...] = ()) -> None:
        if key in done:
            return
        if key in path:
            raise ValueError(f"cycle in the manifest at {key}")
        for dep in sorted(models[key]["depends_on"]["nodes"]):
            if dep in models:
                visit(dep, (*path, key))
        done.add(key)
        order.append(models[key])

    for key in sorted(models):
        visit(key)
    return order


def _kind(node: dict[str, Any]) -> str:
    materialized = node["config"]["materialized"]
    if materialized not in ("table", "view"):
        raise ValueError(f"{node['name']}: {materialized} models cannot be replayed bare")
    return materialized


def create_statement(node: dict[str, Any]) -> str:
    """``create or replace <table|view> <relation> as <compiled SQL>``."""
    compiled = node.get("compiled_code")
    if not compiled:
        raise ValueError(f"{node['name']} has no compiled SQL: read a manifest written by a build")
    return f"create or replace {_kind(node)} {node['relation_name']} as (\n{compiled}\n)"


def dbt_seconds(run_results: dict[str, Any]) -> dict[str, float]:
    """dbt's total wall seconds and its node seconds summed by kind (models, data tests, unit
    tests); with two threads the node seconds may add up to more than the wall."""
    out = {"dbt_elapsed_s": float(run_results["elapsed_time"])}
    names = {"model": "models", "test": "data_tests", "unit_test": "unit_tests"}
    for kind in names.values():
        out[f"dbt_{kind}_s"] = 0.0
    for result in run_results["results"]:
        kind = names.get(result["unique_id"].split(".", 1)[0])
        if kind:
            out[f"dbt_{kind}_s"] += float(result["execution_time"])
    return out


def slowest_nodes(run_results: dict[str, Any], n: int = 10) -> list[tuple[str, float]]:
    timed = [(r["unique_id"], float(r["execution_time"])) for r in run_results["results"]]
    return sorted(timed, key=lambda t: -t[1])[:n]


def copy_without_models(built: Path, dest: Path, models: list[dict[str, Any]]) -> None:
    """``dest``: ``built`` (and its WAL) with every model dropped, as the loaded warehouse was."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        src = Path(str(built) + suffix)
        target = Path(str(dest) + suffix)
        target.unlink(missing_ok=True)
        if src.exists():
            shutil.copyfile(src, target)
    with duckdb.connect(str(dest)) as con:
        for node in reversed(models):
            con.execute(f"drop {_kind(node)} if exists {_local_name(node)}")
        con.execute("checkpoint")


def _local_name(node: dict[str, Any]) -> str:
    return f'"{node["schema"]}"."{node["alias"] or node["name"]}"'


def _connect(warehouse: Path, database: str) -> duckdb.DuckDBPyConnection:
    """``warehouse`` attached under the manifest's database name, so its relations resolve."""
    con = duckdb.connect()
    for name, value in SETTINGS.items():
        con.execute(f"set {name} = '{value}'")
    con.execute(f"set temp_directory = '{warehouse}.tmp'")
    con.execute(f"attach '{warehouse}' as \"{database}\"")
    con.execute(f'use "{database}"')
    return con


def run_bare(warehouse: Path, models: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Each model's statement in order on one connection: (model name, seconds)."""
    if not models:
        return []
    timings: list[tuple[str, float]] = []
    with _connect(warehouse, models[0]["database"]) as con:
        for schema in sorted({n["schema"] for n in models}):
            con.execute(f'create schema if not exists "{schema}"')
        for node in models:
            start = time.perf_counter()
            con.execute(create_statement(node)).fetchall()
            timings.append((node["name"], time.perf_counter() - start))
    return timings


def measure_bare(built: Path, artifacts: Path, scratch: Path) -> dict[str, Any]:
    """Replay the build whose manifest and run_results are in ``artifacts`` on a copy of
    ``built`` under ``scratch`` (removed after); dbt's figures beside the bare ones."""
    manifest = json.loads((artifacts / "manifest.json").read_text())
    run_results = json.loads((artifacts / "run_results.json").read_text())
    models = models_in_build_order(manifest)
    copy = scratch / built.name
    try:
        copy_without_models(built, copy, models)
        timings = run_bare(copy, models)
    finally:
        for leftover in scratch.glob(built.name + "*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    bare = sum(s for _, s in timings)
    out: dict[str, Any] = {"seconds": bare, "models": len(timings)}
    out |= dbt_seconds(run_results)
    out["ratio"] = out["dbt_elapsed_s"] / bare if bare else None
    out["slowest_bare"] = sorted(timings, key=lambda t: -t[1])[:10]
    out["slowest_dbt"] = slowest_nodes(run_results)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="the built warehouse")
    parser.add_argument("--artifacts", type=Path, required=True, help="manifest + run_results")
    parser.add_argument("--scratch", type=Path, help="where the copy goes (default: beside it)")
    args = parser.parse_args(argv)
    scratch = args.scratch or args.warehouse.parent / "bare"
    print(json.dumps(measure_bare(args.warehouse, args.artifacts, scratch), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
