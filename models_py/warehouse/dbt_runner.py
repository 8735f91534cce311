"""Run dbt in-process against a given warehouse file, offline."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from models_py import progress
from models_py.contract import DBT_PROJECT
from models_py.errors import ReelRecError

# dbt must never phone home; set before dbt is imported anywhere.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def run_dbt(
    command: str,
    warehouse: Path,
    dbt_vars: dict[str, object] | None = None,
    select: str | None = None,
    quiet: bool = False,
    threads: int | None = None,
    command_args: list[str] | None = None,
    target: str | None = None,
) -> str:
    """`dbt <command>` on `warehouse` (or on `target` of profiles.yml, e.g. spark); returns a
    one-line summary, raises ReelRecError naming what failed."""
    from dbt.cli.main import dbtRunner  # heavy import, only when dbt is really needed

    os.environ["REELREC_WAREHOUSE"] = str(warehouse.resolve())
    args = [
        command,
        *(command_args or []),
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--log-path",
        str(DBT_PROJECT / "logs"),
        # One per target: the partial-parse state of one adapter must not be reused by another
        # (a DuckDB build after a Spark one failed on it).
        "--target-path",
        str(DBT_PROJECT / ("target" if target in (None, "local") else f"target-{target}")),
    ]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if select:
        args += ["--select", select]
    if quiet:
        args += ["--quiet"]
    if threads:
        args += ["--threads", str(threads)]
    if target:
        args += ["--target", target]
    with progress.bar(f"dbt {command}", unit="node") as nodes:
        result = dbtRunner(callbacks=[_progress_callback(nodes)]).invoke(args)
    if result.exception is not None:
        raise ReelRecError(f"dbt {command} could not run: {result.exception}")
    if not result.success:
        failed = [
            f"{r.node.name}: {r.message}"
            for r in (result.result or [])
            if getattr(r, "status", None) in ("error", "fail")
        ]
        detail = "; ".join(failed[:5]) or "see dbt_project/logs/dbt.log"
        raise ReelRecError(f"dbt {command} failed: {detail}")
    return summarise(result.result)


def _progress_callback(nodes: object) -> Callable[[object], None]:
    """Advance `nodes` as dbt finishes each model and test (events arrive even with --quiet)."""

    def on_event(event: object) -> None:
        name = event.info.name
        if name == "LogStartLine" and nodes.total != event.data.total:
            nodes.total = event.data.total
            nodes.refresh()
        elif name == "NodeFinished":
            nodes.update(1)

    return on_event


def summarise(results: object) -> str:
    """'23 models, 101 data tests, 10 unit tests — all passed' from dbt's node results."""
    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for r in getattr(results, "results", None) or []:
        kind = str(getattr(r.node, "resource_type", "node"))
        kinds[kind.rsplit(".", 1)[-1].lower().replace("_", " ")] += 1
        statuses[str(r.status).rsplit(".", 1)[-1].lower()] += 1
    if not kinds:
        return "nothing to do"
    names = {"model": "models", "test": "data tests", "unit test": "unit tests"}
    parts = ", ".join(f"{n} {names.get(k, k + 's')}" for k, n in sorted(kinds.items()))
    problems = {k: n for k, n in statuses.items() if k not in ("success", "pass")}
    outcome = "all passed" if not problems else ", ".join(f"{n} {k}" for k, n in problems.items())
    return f"{parts} — {outcome}"
