"""The self-contained HTML report: one page, charts embedded, rendered from the warehouse alone."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from models_py.errors import ReelRecError
from models_py.report import data as q
from models_py.report.layout import Section
from models_py.report.sections import (
    eda_section,
    examples_section,
    models_section,
    overview_section,
    popularity_section,
    rows_section,
    settings_section,
)
from models_py.warehouse import file as warehouse

TEMPLATES = Path(__file__).resolve().parent / "templates"


def sections(path: Path, read_only: bool = True) -> list[Section]:
    with warehouse.connect(path, read_only=read_only) as con:
        settings = q.settings(con)
        return [
            overview_section(con, settings),
            rows_section(con),
            eda_section(con, settings),
            popularity_section(con),
            models_section(con),
            examples_section(con),
            settings_section(con),
        ]


def render(path: Path, source_name: str | None = None, read_only: bool = True) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # titles, bios and names come from scraped data
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(
        sections=sections(path, read_only),
        warehouse=source_name or path.name,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_report(
    path: Path, output: Path, source_name: str | None = None, read_only: bool = True
) -> Path:
    """Render the report of warehouse `path` to `output`, replacing it atomically.

    `read_only=False` only where this process already holds the file read-write (the pipeline,
    whose in-process dbt keeps it open): DuckDB refuses a second, differently configured handle.
    """
    if not path.exists():
        raise ReelRecError(f"no warehouse at {path}; build it with `make run` or `reelrec run`")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(render(path, source_name, read_only), encoding="utf-8")
    os.replace(partial, output)
    return output
