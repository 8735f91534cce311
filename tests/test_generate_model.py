"""The generator's planted model in memory (models_py/synth): distributions the evaluation
relies on, rule precedence, cell formats, sizes and the shipped word lists."""

from __future__ import annotations

import itertools
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models_py.contract import CLEANING_RULES
from models_py.synth import cells
from models_py.synth.dirt import DIRT_BIT, HARMLESS_KINDS, REJECT_RULES, expected_rules
from models_py.synth.settings import scale_sizes
from models_py.synth.simulate import Planted, simulate
from tests.synth_reference import parse

PACKAGE = Path(__file__).resolve().parents[1] / "models_py" / "synth"


@pytest.fixture(scope="module")
def default_planted() -> Planted:
    """Report-sized data in memory only (no files): for the distribution targets."""
    return simulate(seed=42)


# ---------------------------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------------------------
def test_default_tiers_and_followers(default_planted: Planted) -> None:
    sizes = default_planted.params["sizes"]["tiers"]
    assert sizes["celebrity"] == 2_000 and 4_000 <= sizes["nano"] <= 7_000
    followers = default_planted.inf["followers"]
    assert np.quantile(followers[followers < 80_000], 0.95) < 60_000
    assert followers.max() > 1_000_000


def test_default_size_targets(default_planted: Planted) -> None:
    p = default_planted.params
    assert 300 <= p["top_song_user_counts"][0] <= 450
    d = p["delta_stats"]
    assert d["p01"] >= -7.5 and d["p99"] <= 5.0
    assert -1.0 <= d["mean"] <= 0.0 and 1.7 <= d["sd"] <= 2.3
    assert 0.004 <= d["share_gt_4"] <= 0.012
    assert p["censored_rows"] < 0.02 * p["sizes"]["n_planted_rows"]
    assert 0.4 <= p["explained_variance_share"]["realised"] <= 0.6
    assert p["sizes"]["n_rows"] == 100_000


def test_usage_is_distinct_heavy_tailed_and_carries_signal(default_planted: Planted) -> None:
    rows, inf, songs = default_planted.rows, default_planted.inf, default_planted.songs
    planted = (rows["bits"] & DIRT_BIT["duplicate_url_song"]) == 0
    user, song = rows["user"][planted], rows["song"][planted]
    pairs = user.astype(np.int64) * songs["id"].size + song
    assert np.unique(pairs).size == pairs.size
    per_user = np.bincount(user)
    assert per_user.min() >= 1 and per_user.max() <= 200 and 7 <= per_user.mean() <= 10
    assert np.median(per_user) < per_user.mean()  # heavy tail
    rng = np.random.default_rng(0)
    used = np.einsum("ij,ij->i", inf["factors"][user], songs["factors"][song]).mean()
    shuffled = np.einsum("ij,ij->i", inf["factors"][user], songs["factors"][rng.permutation(song)])
    assert used > shuffled.mean() + 0.1  # songs are chosen by affinity, not at random
    delta, expected = rows["delta"][planted], rows["delta_expected"][planted]
    ok = ~rows["censored"][planted]
    assert np.corrcoef(delta[ok], expected[ok])[0, 1] > 0.8
    high_er = inf["er"][user] > 8
    assert delta[high_er & ok].mean() < -3  # high-ER accounts regress to the mean


def test_artist_explains_song_popularity(default_planted: Planted) -> None:
    """Songs of one artist share part of their popularity, so metadata predicts the usage of
    a song nobody has used yet (the cold-start evaluation relies on it)."""
    songs = default_planted.songs
    artist, log_pop = songs["artist"], np.log(songs["popularity"])
    n = np.bincount(artist)
    sums = np.bincount(artist, log_pop)
    multi = n[artist] > 1
    others = (sums[artist] - log_pop)[multi] / (n[artist][multi] - 1)  # leave-one-out mean
    r = np.corrcoef(log_pop[multi], others)[0, 1]
    assert 0.2 < r < 0.8, r
    assert default_planted.params["model"]["artist_popularity_share"] == 0.5


# ---------------------------------------------------------------------------------------------
# Rule precedence
# ---------------------------------------------------------------------------------------------
def test_expected_rule_is_the_first_in_contract_order() -> None:
    """Any two planted rules on one row: the one the contract lists first wins; harmless dirt
    never quarantines."""
    harmless = DIRT_BIT["thousands_sep"] | DIRT_BIT["padded"] | DIRT_BIT["url_variant"]
    pairs = list(itertools.combinations(REJECT_RULES, 2))
    bits = np.array([DIRT_BIT[a] | DIRT_BIT[b] | harmless for a, b in pairs])
    got = [REJECT_RULES[i] for i in expected_rules(bits)]
    assert got == [min(a, b, key=CLEANING_RULES.index) for a, b in pairs]
    only_harmless = np.array([0, harmless, sum(DIRT_BIT[k] for k in HARMLESS_KINDS)])
    assert expected_rules(only_harmless).tolist() == [-1, -1, -1]


# ---------------------------------------------------------------------------------------------
# Cell formats
# ---------------------------------------------------------------------------------------------
@given(st.integers(1_000, 10**12))
def test_thousands_separators_round_trip(x: int) -> None:
    text = str(cells.thousands(np.array([x]))[0])
    assert text == f"{x:,}"


@given(st.integers(10_000, 5_000_000))
def test_abbreviated_followers_keep_tier(x: int) -> None:
    value = parse(str(cells.abbreviated(np.array([x]))[0]), "Followers")
    # Instagram precision: 12.3k / 157k below a million, 1.4m above (truncated, never rounded).
    assert value <= x and (x - value) / x < (0.01 if x < 1_000_000 else 0.1)
    assert (value < 80_000) == (x < 80_000)


@given(st.integers(1, 60))
def test_time_text_matches_report_formula(x: int) -> None:
    assert str(cells.time_text(np.array([x]))[0]) == (f"{x}d" if x < 7 else f"{round(x / 7)}w")


@given(st.integers(10, 4_000).map(lambda c: c / 100))
def test_er_percent_round_trip(er: float) -> None:
    text = str(cells.percent(np.array([er]))[0])
    assert re.fullmatch(r"\d+\.\d\d%", text) and parse(text, "ER") == pytest.approx(er)


# ---------------------------------------------------------------------------------------------
# Sizes and packaging
# ---------------------------------------------------------------------------------------------
def test_scale_sizes() -> None:
    assert scale_sizes(100_000) == (10_000, 2_000, 10_000)
    assert scale_sizes(1_000_000) == (100_000, 20_000, 50_000)
    assert scale_sizes(10_000_000) == (833_333, 166_667, 100_000)
    a, b, c = scale_sizes(50_000)
    assert (a + b, c) == (6_000, 5_000)


def test_word_lists_ship_with_the_package() -> None:
    """Every word file matches the package-data globs, so a non-editable install has them."""
    pyproject = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["models_py.synth"]
    files = [p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "words").iterdir()]
    assert len(files) > 10
    assert [f for f in files if not any(fnmatch(f, g) for g in globs)] == []
