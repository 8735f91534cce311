"""The package layout holds: imports point down the layering, modules (the package's and the
tests') stay small, and the installed package ships no benchmark code. Imports are read with
`ast`, never executed."""

from __future__ import annotations

import ast
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "models_py"
TESTS = REPO / "tests"
MAX_LINES = 400

BASE = frozenset({"errors", "progress", "contract", "dbt_vars", "forking"})
# What each part of models_py (first name under it) may import from models_py besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "__init__": frozenset(),  # models_py/__init__.py
    "errors": frozenset(),
    "progress": frozenset(),
    "contract": frozenset(),
    "dbt_vars": frozenset(),
    "forking": frozenset(),
    "recommenders": BASE,
    "ingest": BASE,
    "warehouse": BASE,
    "synth": BASE | {"recommenders"},  # the oracle is a RatingRecommender
    "scoring": BASE | {"recommenders", "warehouse", "synth"},
    "report": BASE | {"warehouse"},
    "spark": BASE | {"ingest", "warehouse", "recommenders", "scoring"},
    "pipeline": BASE
    | {"ingest", "warehouse", "recommenders", "synth", "scoring", "report", "spark"},
    "cli": BASE
    | {"ingest", "warehouse", "recommenders", "synth", "scoring", "report", "pipeline", "spark"},
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def sized_modules() -> list[Path]:
    """The modules held to MAX_LINES: the package's, and the tests' (tests/*.py)."""
    return [*modules(), *sorted(TESTS.glob("*.py"))]


def part_of(module: Path) -> str:
    """'scoring' for models_py/scoring/runner.py, 'errors' for models_py/errors.py."""
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_parts(source: str, module: Path) -> set[str]:
    """The parts of models_py that `source`, the text of `module`, imports, at top level or
    inside functions; relative imports are resolved from the module's package."""
    package = module.relative_to(REPO).parts[:-1]  # ('models_py', 'scoring')
    parts: set[str] = set()
    for node in ast.walk(ast.parse(source, str(module))):
        if isinstance(node, ast.Import):
            dotted = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            base += node.module.split(".") if node.module else []
            # `from models_py import progress` names the part among the imported names.
            dotted = [[*base, alias.name] for alias in node.names]
        else:
            continue
        parts |= {names[1] for names in dotted if names[0] == "models_py" and len(names) > 1}
    return parts


def back_edges(source: str, module: Path) -> set[str]:
    own = part_of(module)
    return imported_parts(source, module) - ALLOWED[own] - {own}


def test_every_kind_of_import_is_seen_and_a_back_edge_caught() -> None:
    probe = PACKAGE / "ingest" / "probe.py"  # never written: only its place in the package counts
    source = (
        "import models_py.scoring.writer\n"
        "from models_py import progress\n"
        "from ..report.page import write_report\n"
        "from . import columns\n"
        "def late():\n"
        "    from models_py.cli import lookup\n"
    )
    assert imported_parts(source, probe) == {"scoring", "progress", "report", "ingest", "cli"}
    assert back_edges(source, probe) == {"scoring", "report", "cli"}
    assert back_edges(source, PACKAGE / "cli" / "probe.py") == set()


def test_every_part_of_the_package_has_a_row_in_the_layering() -> None:
    unknown = sorted({part_of(m) for m in modules()} - set(ALLOWED))
    assert unknown == [], f"add {unknown} to ALLOWED with what it may import"


@pytest.mark.parametrize("module", modules(), ids=lambda m: str(m.relative_to(PACKAGE)))
def test_imports_follow_the_layering(module: Path) -> None:
    assert back_edges(module.read_text(), module) == set(), (
        f"{module.relative_to(REPO)} ({part_of(module)}) may import only "
        f"{sorted(ALLOWED[part_of(module)])} from models_py"
    )


@pytest.mark.parametrize("module", sized_modules(), ids=lambda m: str(m.relative_to(REPO)))
def test_no_module_is_over_400_lines(module: Path) -> None:
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(REPO)}: {lines} lines; split it by concern"


def shipped_packages() -> list[str]:
    """The packages a wheel holds: folders with an __init__.py, nested in such folders from the
    repository root, whose dotted name matches pyproject's include patterns (as setuptools'
    find_packages selects them)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    found: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
            name = prefix + sub.name
            if any(fnmatchcase(name, pattern) for pattern in include):
                found.append(name)
            walk(sub, name + ".")

    walk(REPO, "")
    return found


def test_the_wheel_ships_models_py_and_no_benchmark_code() -> None:
    packages = shipped_packages()
    assert "models_py" in packages and "models_py.recommenders" in packages
    assert all(p == "models_py" or p.startswith("models_py.") for p in packages), packages
    shipped_names = {
        part
        for package in packages
        for module in (REPO / package.replace(".", "/")).glob("*.py")
        for part in (*package.split("."), module.stem)
    }
    assert not {n for n in shipped_names if n.startswith("bench") or n == "report_dense"}
