"""The dbt vars' declared schema (models_py/dbt_vars.py): hostile and mistaken settings are
refused in one line before anything runs, the defaults obey the same ranges, and the SQL
takes a var only through the guards of dbt_project/macros/settings.sql."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from models_py import dbt_vars, pipeline
from models_py.cli.commands import main
from models_py.contract import DBT_PROJECT, project_vars
from models_py.errors import ReelRecError

INJECTION = "split_seed=42' || (select content from read_text('secret.txt')) || '"

# (the command line's settings, what the one-line error says)
REFUSED = [
    (["--var", INJECTION], "split_seed=\"42' ||"),
    (["--var", "max_er=12) or (1=1"], "max_er='12) or (1=1': input should be a valid number"),
    (["--var", "max_er=abc"], "max_er='abc': input should be a valid number"),
    (["--var", "max_er=nan"], "max_er=nan: input should be a finite number"),
    (["--var", "max_er=1e400"], "max_er=inf: input should be a finite number"),
    (["--var", "top_n=0"], "top_n=0: input should be greater than or equal to 1"),
    (["--var", "top_n=100000"], "top_n=100000: input should be less than or equal to 100"),
    (["--var", "eval_k=0"], "eval_k=0: input should be greater than or equal to 1"),
    (["--var", "trending_half_life_days=0"], "trending_half_life_days=0: input should be great"),
    (["--var", "celebrity_followers=5000"], "celebrity_followers (5000) must be above tier_nano"),
    (["--var", "test_percent=0"], "test_percent=0: input should be greater than or equal to 1"),
    (["--var", "test_percent=12.5"], "test_percent=12.5: input should be a valid integer"),
    (["--var", "maxer=5"], "no var 'maxer'; did you mean max_er?"),
    (["--var", "faithful_max_ratings=abc"], "faithful_max_ratings='abc': input should be a valid"),
    (["--var", "run_id=x"], "run_id is set by the run itself"),
    (["--var", "top_n=5"], "eval_k (10) must not exceed top_n (5)"),
    (["--top-n", "20", "--var", "top_n=30"], "top_n is given twice"),
    (["--var", "max_er"], "'max_er' is not of the form name=value"),
    (["--var", "serve_methods=ease,itemknn"], "no servable method 'itemknn'; did you mean item_"),
    (["--var", "serve_methods=ease;drop table x"], "serve_methods='ease;drop table x': string sh"),
    (["--var", "serve_methods=als"], "no servable method 'als'"),
]


@pytest.mark.parametrize(("settings", "says"), REFUSED, ids=[s[-1] for s, _ in REFUSED])
def test_bad_settings_are_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: list[str], says: str
) -> None:
    (tmp_path / "secret.txt").write_text("the secret\n")
    folder = tmp_path / "warehouse"  # the run's first step, its lock, would create it
    code = main(
        ["run", "--input", str(tmp_path), "--warehouse", str(folder / "w.duckdb"), *settings]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("reelrec: error: dbt vars: ") and err.count("\n") == 1, err
    assert says in err and "Traceback" not in err and "the secret" not in err
    assert not folder.exists()  # nothing locked, built or published


def test_the_pipeline_checks_the_vars_it_is_given(tmp_path: Path) -> None:
    """Callers of pipeline.run (tests, schedulers) pass the same gate as the command line."""
    target = tmp_path / "warehouse" / "w.duckdb"
    with pytest.raises(ReelRecError, match="max_er='twelve': input should be a valid number"):
        pipeline.run(tmp_path, target, dbt_vars={"max_er": "twelve"}, generate_if_empty=False)
    assert not target.parent.exists()


def test_defaults_are_declared_and_within_their_ranges() -> None:
    assert set(project_vars()) == set(dbt_vars.NAMES)
    settings = dbt_vars.check({}, project_vars())
    assert settings.top_n <= dbt_vars.MAX_LIST_LENGTH and settings.eval_k <= settings.top_n


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        ({"max_er": "12"}, "max_er='12' (the default in dbt_project.yml): input should be a"),
        ({"celebrity_followers": 1}, "celebrity_followers (1) must be above"),
        ({"top_n": None}, "top_n=None (the default in dbt_project.yml)"),
    ],
)
def test_a_broken_default_is_refused_too(broken: dict[str, object], says: str) -> None:
    with pytest.raises(dbt_vars.VarError, match=re.escape(says)):
        dbt_vars.check({}, {**project_vars(), **broken})
    missing = {k: v for k, v in project_vars().items() if k != "eval_k"}
    with pytest.raises(dbt_vars.VarError, match="eval_k has no default in dbt_project.yml"):
        dbt_vars.check({}, missing)


def test_settings_read_back_pass_the_same_ranges() -> None:
    rows = [(name, str(value)) for name, value in project_vars().items()]
    assert dbt_vars.from_settings(rows) == dbt_vars.check({}, project_vars())
    with pytest.raises(dbt_vars.VarError, match="faithful_max_ratings='abc'"):
        dbt_vars.from_settings([*rows[:-1], ("faithful_max_ratings", "abc")])


def _sql_files() -> list[Path]:
    return [
        p
        for folder in ("models", "macros", "tests")
        for p in (DBT_PROJECT / folder).rglob("*")
        if p.suffix in (".sql", ".yml")
    ]


def test_every_var_reaches_sql_through_a_guard() -> None:
    """var() is read only in settings.sql; the models take number_var() or text_var()."""
    jinja = re.compile(r"\{[{%].*?[%}]\}", re.DOTALL)
    bare = re.compile(r"(?<![\w.])var\s*\(")
    found = [
        f"{p.relative_to(DBT_PROJECT)}: {block}"
        for p in _sql_files()
        if p.name != "settings.sql"
        for block in jinja.findall(p.read_text())
        if bare.search(block)
    ]
    assert not found, f"var() outside the guards of macros/settings.sql: {found}"
    assert bare.search("{{ var('top_n') }}") and not bare.search("{{ number_var('top_n') }}")


class _Refused(Exception):
    pass


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise _Refused(message)


def _render(call: str, **values: object) -> str:
    source = (DBT_PROJECT / "macros" / "settings.sql").read_text()
    template = jinja2.Environment().from_string(source + "{{ " + call + " }}")
    return template.render(var=values.__getitem__, exceptions=_Exceptions).strip()


@pytest.mark.parametrize(
    "value", ["12) or (1=1", "42' || 'x", True, float("nan"), float("inf"), None, [1]]
)
def test_dbt_alone_refuses_a_var_that_is_not_a_number(value: object) -> None:
    """`dbt build --vars` bypasses reelrec's check: the macro still keeps text out of the SQL."""
    with pytest.raises(_Refused, match="var max_er must be a finite number"):
        _render("number_var('max_er')", max_er=value)


def test_numbers_and_text_render_as_literals() -> None:
    assert _render("number_var('max_er')", max_er=12) == "12"
    assert _render("number_var('max_er')", max_er=2.5) == "2.5"
    assert _render("text_var('run_id')", run_id="it's") == "'it''s'"
