"""The project's generic dbt tests catch what they promise to (rendered to plain SQL)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import jinja2
import pytest

from models_py.contract import render_macro

GENERIC = Path(__file__).resolve().parent.parent / "dbt_project" / "tests" / "generic"


def render_test(file: str, name: str, key_hash=None, **arguments: object) -> str:
    """A `{% test %}` block is a macro named test_<name> to dbt; render it the same way.
    `key_hash` replaces the project's macro of that name (default: the DuckDB one)."""
    source = (GENERIC / file).read_text()
    source = re.sub(r"{%-?\s*test\s+(\w+)\(", r"{% macro test_\1(", source)
    source = re.sub(r"{%-?\s*endtest\s*-?%}", "{% endmacro %}", source)
    call = f"{{{{ test_{name}(**arguments) }}}}"
    env = jinja2.Environment()
    env.globals["key_hash"] = key_hash or (lambda columns: render_macro(f"key_hash({columns!r})"))
    return env.from_string(source + call).render(arguments=arguments)


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
@pytest.mark.parametrize("key_hash", [None, lambda columns: "abs(0)"], ids=["hash", "all-collide"])
def test_ranks_are_contiguous_names_each_problem(
    rows: list[tuple], problems: set[str], key_hash
) -> None:
    # A constant hash makes every row a suspect: the exact grouping alone must decide.
    con = duckdb.connect()
    con.execute(
        "create table recs (influencer_id varchar, method varchar, rank int, song_id varchar)"
    )
    con.executemany("insert into recs values (?, ?, ?, ?)", rows)
    sql = render_test(
        "recommendation_tests.sql", "ranks_are_contiguous", key_hash=key_hash, model="recs"
    )
    found = {r[-1] for r in con.execute(sql).fetchall()}
    assert found == problems


@pytest.mark.parametrize(
    ("used_where", "flagged"), [(None, {"s1", "s2"}), ("scenario = 'warm'", {"s1"})]
)
@pytest.mark.parametrize("key_hash", [None, lambda columns: "abs(0)"], ids=["hash", "all-collide"])
def test_recommends_no_used_song_counts_only_the_chosen_used_rows(
    used_where: str | None, flagged: set[str], key_hash
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
    sql = render_test(
        "recommendation_tests.sql", "recommends_no_used_song", key_hash=key_hash, **arguments
    )
    assert sorted(r[-1] for r in con.execute(sql).fetchall()) == sorted(flagged)


KEYS = [("u1", "s1"), ("u1", "s2"), ("u2", "s1"), ("u2", "s1"), ("u3", None), ("u3", None)]


@pytest.mark.parametrize("key_hash", [None, lambda columns: "abs(0)"], ids=["hash", "all-collide"])
def test_unique_combination_of_columns_finds_exactly_the_repeated_keys(key_hash) -> None:
    # A constant hash makes every row a suspect: the exact grouping alone must decide.
    con = duckdb.connect()
    con.execute("create table t (influencer_id varchar, song_id varchar)")
    con.executemany("insert into t values (?, ?)", KEYS)
    sql = render_test(
        "unique_combination_of_columns.sql",
        "unique_combination_of_columns",
        key_hash=key_hash,
        model="t",
        combination_of_columns=["influencer_id", "song_id"],
    )
    assert sorted(con.execute(sql).fetchall(), key=str) == [("u2", "s1", 2), ("u3", None, 2)]
    con.execute("delete from t where influencer_id in ('u2', 'u3')")
    assert con.execute(sql).fetchall() == []


@pytest.mark.parametrize("key_hash", [None, lambda columns: "abs(0)"], ids=["hash", "all-collide"])
def test_unique_finds_exactly_the_repeated_values_and_skips_nulls(key_hash) -> None:
    con = duckdb.connect()
    con.execute("create table t as select * from (values ('a'), ('b'), ('b'), (null), (null)) v(x)")
    sql = render_test("unique.sql", "unique", key_hash=key_hash, model="t", column_name="x")
    assert con.execute(sql).fetchall() == [("b", 2)]
    con.execute("delete from t where x = 'b'")
    assert con.execute(sql).fetchall() == []
