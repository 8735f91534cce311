"""What every stage shares: where a size's warehouse is, and timing and peak memory per phase."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Phases:
    """Wall seconds and peak RSS after each named phase of a stage."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.out[f"{name}_s"] = time.perf_counter() - start
        self.out[f"peak_mb_{name}"] = peak_mb()


def building(size_dir: Path) -> Path:
    from models_py.warehouse import file as warehouse

    return warehouse.building_path(size_dir / "warehouse.duckdb")


def run_vars(size_dir: Path) -> dict[str, object]:
    return json.loads((size_dir / "run.json").read_text())


def built(size_dir: Path) -> Path:
    """The published warehouse, or the one being built when the run stopped after dbt build
    (e.g. scoring timed out): the split is there, the tuned parameters are not."""
    published = size_dir / "warehouse.duckdb"
    return published if published.exists() else building(size_dir)


def scoring_data(size_dir: Path) -> Any:
    from models_py.scoring.data import read_scoring_data
    from models_py.warehouse import file as warehouse

    with warehouse.connect(built(size_dir), read_only=True) as con:
        return read_scoring_data(con)


def tuned_params(size_dir: Path, method: str) -> tuple[dict[str, Any], float | None]:
    """The run's winning parameters for ``method`` and its fit seconds including tuning
    ({} and None when the run did not get to score models: the defaults are used)."""
    from models_py.warehouse import file as warehouse

    with warehouse.connect(built(size_dir), read_only=True) as con:
        rows = con.execute(
            "select params, fit_seconds from scores.model_runs "
            "where method = ? and not_fitted_reason is null",
            [method],
        ).fetchall()
    if not rows:
        return {}, None
    return json.loads(rows[0][0]), float(rows[0][1])


def faithful_limit(size_dir: Path) -> int:
    """The run's faithful_max_ratings (the warehouse's run_settings)."""
    from models_py.scoring.data import faithful_max_ratings
    from models_py.warehouse import file as warehouse

    with warehouse.connect(built(size_dir), read_only=True) as con:
        return faithful_max_ratings(con)
