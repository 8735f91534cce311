"""The self-contained HTML report: one page, charts embedded, rendered from the warehouse alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2

from models_py.report import data as q
from models_py.report.examples import examples_section
from models_py.report.layout import Section
from models_py.report.sections import (
    eda_section,
    models_section,
    overview_section,
    popularity_section,
    rows_section,
    settings_section,
)
from models_py.warehouse import file as warehouse
from models_py.warehouse import paths

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


def write_report(path: Path, output: Path, source_name: str | None = None) -> Path:
    """Render the report of warehouse `path` to `output`, replacing it in one rename.

    `output` must be an .html name, and only an HTML page (or nothing) is ever replaced there:
    never the warehouse itself, an input file or a folder.
    """
    paths.refuse_unless(output, "--output", paths.HTML)
    paths.require_suffix(output, "--output", ".html", ".htm")
    html = render(path, source_name)
    output.parent.mkdir(parents=True, exist_ok=True)
    return paths.write_text_replacing(output, html)
