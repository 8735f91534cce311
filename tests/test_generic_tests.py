"""The project's generic dbt tests catch what they promise to (rendered to plain SQL)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import jinja2
import pytest

GENERIC = Path(__file__).resolve().parent.parent / "dbt_project" / "tests" / "generic"


def render_test(file: str, name: str, **arguments: object) -> str:
    """A `{% test %}` block is a macro named test_<name> to dbt; render it the same way."""
    source = (GENERIC / file).read_text()
    source = re.sub(r"{%-?\s*test\s+(\w+)\(", r"{% macro test_\1(", source)
    source = re.sub(r"{%-?\s*endtest\s*-?%}", "{% endmacro %}", source)
    call = f"{{{{ test_{name}(**arguments) }}}}"
    return jinja2.Environment().from_string(source + call).render(arguments=arguments)


GOOD = [("u1", "m", 1, "s1"), ("u1", "m", 2, "s2"), ("u2", "m", 1, "s1")]


@pytest.mark.parametrize(
    ("rows", "problems"),
    [
        (GOOD, set()),
        (GOOD + [("u2", "m", 3, "s3")], {"ranks not 1..n"}),  # gap: 1, 3
        (GOOD + [("u2", "m", 1, "s2")], {"ranks not 1..n", "rank repeated"}),
        (GOOD + [("u1", "m", 3, "s1")], {"song repeated"}),
        ([("u1", "m", 2, "s1")], {"ranks not 1..n"}),  # does not start at 1
    ],
)
def test_ranks_are_contiguous_names_each_problem(rows: list[tuple], problems: set[str]) -> None:
    con = duckdb.connect()
    con.execute(
        "create table recs (influencer_id varchar, method varchar, rank int, song_id varchar)"
    )
    con.executemany("insert into recs values (?, ?, ?, ?)", rows)
    sql = render_test("recommendation_tests.sql", "ranks_are_contiguous", model="recs")
    found = {r[-1] for r in con.execute(sql).fetchall()}
    assert found == problems


@pytest.mark.parametrize(
    ("used_where", "flagged"), [(None, {"s1", "s2"}), ("scenario = 'warm'", {"s1"})]
)
def test_recommends_no_used_song_counts_only_the_chosen_used_rows(
    used_where: str | None, flagged: set[str]
) -> None:
    con = duckdb.connect()
    con.execute(
        """
        create table recs as select * from (values ('u1', 'm', 1, 's1'), ('u1', 'm', 2, 's2'))
            t(influencer_id, method, rank, song_id);
        create table used as select * from (values ('warm', 'u1', 's1'), ('cold', 'u1', 's2'))
            t(scenario, influencer_id, song_id);
        """
    )
    arguments = {"model": "recs", "used": "used"}
    if used_where:
        arguments["used_where"] = used_where
    sql = render_test("recommendation_tests.sql", "recommends_no_used_song", **arguments)
    assert {r[-1] for r in con.execute(sql).fetchall()} == flagged
