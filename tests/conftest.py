"""Shared fixtures: one small generated dataset and one warehouse built from it per session."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("DO_NOT_TRACK", "1")

# Property tests try hypothesis's default number of examples in `make test`; the big tier
# (`make test-big`: --hypothesis-profile=thorough) tries each ten times as many.
settings.register_profile("thorough", max_examples=1000)

SMALL = {"n_influencers": 400, "n_celebrities": 80, "n_songs": 500}
# The report's min_user_count of 100 was for 12,000 influencers; scaled to 480 here.
# eval_max_influencers below the 480 influencers: every test runs on a sampled evaluation.
SMALL_VARS = {"min_user_count": 5, "eval_max_influencers": 300}
# The `built` warehouse's: content served beside the default method, so its explanations are
# checked in the marts.
BUILT_VARS = {**SMALL_VARS, "serve_methods": "content"}


@dataclass(frozen=True)
class Built:
    data: Path  # holds raw/ and truth/
    warehouse: Path
    output: str  # what `reelrec run` printed


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models_py.synth.generate import generate

    out = tmp_path_factory.mktemp("data")
    generate(out, seed=7, **SMALL)
    return out


@pytest.fixture(scope="session")
def built(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The warehouse as a user builds it: through the `reelrec run` command."""
    from models_py.cli.commands import main

    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    overrides = [arg for k, v in BUILT_VARS.items() for arg in ("--var", f"{k}={v}")]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            ["run", "--input", str(small_data / "raw"), "--warehouse", str(path), *overrides]
        )
    assert code == 0, printed.getvalue()
    return Built(small_data, path, printed.getvalue())


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generated dataset's parquet parts (raw/; truth/ beside): the input shape tests
    leave columns out of it (tests/shapes.py)."""
    from models_py.synth.generate import generate
    from tests.shapes import TINY

    out = tmp_path_factory.mktemp("tiny")
    generate(out, seed=3, fmt="parquet", **TINY)
    return out / "raw"
