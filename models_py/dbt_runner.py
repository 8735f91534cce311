"""Run dbt in-process against a given warehouse file, offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

from models_py.errors import ReelRecError

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"

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
) -> None:
    """`dbt <command>` on `warehouse`; raises ReelRecError naming what failed."""
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
        "--target-path",
        str(DBT_PROJECT / "target"),
    ]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if select:
        args += ["--select", select]
    if quiet:
        args += ["--quiet"]
    if threads:
        args += ["--threads", str(threads)]
    result = dbtRunner().invoke(args)
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


def project_var(name: str) -> object:
    """A var's default as set in dbt_project.yml (the one place defaults live)."""
    import yaml

    return yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"][name]
