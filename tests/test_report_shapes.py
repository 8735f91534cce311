"""Issue 18's report faults, each on a copy of the session's small build: charts whose data the
input lacked, the example methods announced, and what overflowed or was cut off."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from models_py import pipeline
from models_py.report.page import render
from tests.conftest import Built
from tests.shapes import Shape, null_columns
from tests.test_report import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow


def copy_of(built: Built, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    return copy


def test_report_without_comments_or_time_says_so_in_the_charts_place(
    built: Built, tmp_path: Path
) -> None:
    """Item 2: no Comments column crashed the report (LogNorm on an empty grid) and nothing
    was published; no Time drew an empty -0.04…0.04 axis."""
    copy = copy_of(built, tmp_path)
    with duckdb.connect(str(copy)) as con:
        null_columns(con, Shape(frozenset({"Comments", "Time"})))
    html = render(copy)
    assert "No reel with both Likes and Comments in this warehouse" in html
    assert "No Time (since posting) in this warehouse" in html
    assert 'alt="Likes versus comments"' not in html  # a note, not an empty picture
    assert 'alt="Histogram of influencer engagement rate"' in html  # the rest are drawn


def test_the_example_methods_announced_are_the_ones_shown(built: Built, tmp_path: Path) -> None:
    """Item 8: with no song reaching min_user_count, count has no list, yet the report
    announced it among its 4 example methods and showed 3."""
    copy = copy_of(built, tmp_path)
    with duckdb.connect(str(copy)) as con:
        for table in (
            "main.popularity_recommendations",
            "intermediate.int_popularity_rankings__all",
        ):
            con.execute(f"delete from {table} where method = 'count'").fetchall()
    html = render(copy)
    examples = html[html.index('id="examples"') :]
    announced = re.search(r"what (\d+) methods? \(([^)]*)\) recommend next", examples)
    assert announced, examples[:2000]
    methods = announced.group(2).split(", ")
    assert int(announced.group(1)) == len(methods) and "count" not in methods
    assert "count (no song is used by min_user_count = 5 influencers or more)" in examples
    first_picks = examples[examples.index("— recommended") :]
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", first_picks, re.S).group(1)
    assert re.findall(r"<th>([^<]*)</th>", header) == ["rank", *methods]


def test_bar_chart_titles_and_labels_stay_inside_the_picture() -> None:
    """Item 8: the most-used-songs chart title was cut off: centred over the axes, which long
    song labels push to the right."""
    from models_py.report.charts import bars_figure

    labels = [
        f"A Rather Long Song Title Number {i} (Acoustic) — The Artist Collective" for i in range(15)
    ]
    fig = bars_figure(
        labels, list(range(400, 100, -20)), "Songs used by most influencers", "influencers"
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = fig.bbox.padded(0.5)
    drawn = [ax.get_tightbbox(renderer) for ax in fig.axes]  # ticks, labels, axes titles
    drawn += [t.get_window_extent(renderer) for t in fig.texts if t.get_text()]  # its title
    assert any(
        t.get_text() == "Songs used by most influencers"
        for t in [*fig.texts, *(ax.title for ax in fig.axes)]
    )
    for box in drawn:
        assert inside.containsx(box.x0) and inside.containsx(box.x1), box
        assert inside.containsy(box.y0) and inside.containsy(box.y1), box


def test_no_table_overflows_its_place_in_chromium(built: Built) -> None:
    """Item 8: the rows-per-file table's "Delta derived" header overflowed its half of the page
    and was cut off."""
    from playwright.sync_api import sync_playwright

    report = pipeline.report_path_for(built.warehouse).resolve()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(report.as_uri(), wait_until="load")
        overflowing = page.eval_on_selector_all(
            ".table-wrap",
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1)"
            "          .map(e => (e.querySelector('h3') || {}).textContent)",
        )
        browser.close()
    assert overflowing == []
