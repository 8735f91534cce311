"""The generator's written files (models_py/synth): layout, truth and dirt, checked against an
independent reference cleaner (tests/synth_reference.py), determinism, formats and the CLI.

Small sizes keep each generation quick.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from models_py.contract import CLEANING_RULES, RAW_COLUMNS
from models_py.synth.dirt import DIRT_KINDS, REJECT_RULES
from models_py.synth.generate import generate, main
from tests.synth_reference import (
    MAX_ER,
    MAX_POSTS,
    NUMERIC,
    Run,
    canonical_url,
    detect_dirt,
    digests,
    is_blank,
    make_run,
    parse,
    reference_rules,
)

SMALL = {"n_influencers": 400, "n_celebrities": 80, "n_songs": 500, "n_rows": 6000}
SEED = 7


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return make_run(tmp_path_factory.mktemp("small"), seed=SEED, **SMALL)


# ---------------------------------------------------------------------------------------------
# Layout and the planted truth
# ---------------------------------------------------------------------------------------------
def test_params_json_is_the_returned_summary(small: Run) -> None:
    on_disk = json.loads((small.out / "truth" / "params.json").read_text())
    assert on_disk == small.params


def test_truth_tables_reproduce_the_planted_ratings(small: Run) -> None:
    """What the oracle reads (params mu, entity biases and factors) gives every row's planted
    expectation, and the written Delta scatters around it with the recorded sigma."""
    influencers = pq.read_table(small.out / "truth" / "influencers.parquet").to_pandas()
    songs = pq.read_table(small.out / "truth" / "songs.parquet").to_pandas()
    truth = pq.read_table(small.out / "truth" / "rows.parquet").to_pandas()
    truth = truth.dropna(subset=["influencer_id", "song_id"])
    factors = [c for c in influencers.columns if c.startswith("factor_")]
    assert len(factors) == small.params["k"] and factors == [
        c for c in songs.columns if c.startswith("factor_")
    ]
    user = influencers.set_index("influencer_id").loc[truth["influencer_id"]]
    song = songs.set_index("song_id").loc[truth["song_id"]]
    interaction = (user[factors].to_numpy() * song[factors].to_numpy()).sum(axis=1)
    expected = small.params["mu"] + user["bias"].to_numpy() + song["bias"].to_numpy() + interaction
    np.testing.assert_allclose(truth["delta_expected"], expected, rtol=0, atol=1e-9)
    rated = truth[~truth["censored"] & truth["delta"].notna()]
    residual = rated["delta"] - rated["delta_expected"]
    assert len(rated) > 4_000
    assert abs(residual.mean()) < 0.05
    assert residual.std() == pytest.approx(small.params["sigma"], rel=0.05)


def test_row_counts_and_file_split(small: Run) -> None:
    n = SMALL["n_rows"]
    assert small.params["sizes"]["n_rows"] == len(small.rows) == len(small.truth) == n
    files = [f["file"] for f in small.params["files"]]
    assert files == ["data1.xlsx", "data2.xlsx"]
    sizes = [f["rows"] for f in small.params["files"]]
    assert abs(sizes[0] - sizes[1]) <= 1 and max(sizes) < 60_000
    assert [(r["file"], r["row"]) for r in small.rows] == [
        (t["source_file"], t["source_row"]) for t in small.truth
    ]
    assert [r["row"] for r in small.rows if r["file"] == "data2.xlsx"][:2] == [2, 3]
    n_dup = small.params["sizes"]["n_duplicate_rows"]
    assert n_dup == round(0.02 * n)
    assert small.params["sizes"]["n_planted_rows"] == n - n_dup


def test_xlsx_cells_are_numbers_unless_dirty(small: Run) -> None:
    truth = {(t["source_file"], t["source_row"]): t for t in small.truth}
    plain = [r for r in small.rows if truth[r["file"], r["row"]]["dirt"] == ""]
    assert len(plain) > 1000
    for r in plain:
        for col in NUMERIC:
            assert isinstance(r[col], int | float) and not isinstance(r[col], bool), (col, r[col])
        for col in ("Song", "URL", "Name", "Bio", "title", "release", "artist_name"):
            assert isinstance(r[col], str) and r[col], (col, r[col])


# ---------------------------------------------------------------------------------------------
# Truth vs. an independent cleaner
# ---------------------------------------------------------------------------------------------
def test_expected_rule_matches_reference_cleaner(small: Run) -> None:
    expected = [t["expected_rule"] for t in small.truth]
    assert reference_rules(small.rows) == expected
    by_rule = small.params["expected"]["quarantined_by_rule"]
    assert by_rule == {rule: expected.count(rule) for rule in REJECT_RULES}
    assert small.params["expected"]["clean_rows"] == expected.count(None)
    assert all(by_rule[rule] > 0 for rule in REJECT_RULES)


def test_truth_rule_follows_precedence_and_dirt(small: Run) -> None:
    for t in small.truth:
        kinds = t["dirt"].split(",") if t["dirt"] else []
        rejecting = [k for k in kinds if k in REJECT_RULES]
        assert len(rejecting) <= 1, t
        assert t["expected_rule"] == (rejecting[0] if rejecting else None)
        assert all(k in DIRT_KINDS for k in kinds)
    # Rules are named as the contract names them, and params.json lists them in its precedence.
    rules_seen = {t["expected_rule"] for t in small.truth} - {None}
    assert rules_seen <= set(CLEANING_RULES)
    assert small.params["rule_precedence"] == [r for r in CLEANING_RULES if r in rules_seen]
    # Every copy comes after a clean original with the same (influencer, song).
    first_clean: dict[tuple[str, str], int] = {}
    for i, t in enumerate(small.truth):
        key = (t["influencer_id"], t["song_id"])
        if t["expected_rule"] is None:
            assert key not in first_clean, "planted data holds a duplicate pair"
            first_clean[key] = i
        elif t["expected_rule"] == "duplicate_url_song":
            assert first_clean.get(key, len(small.truth)) < i


def test_clean_rows_are_valid_and_carry_the_truth(small: Run) -> None:
    inf = pq.read_table(small.out / "truth" / "influencers.parquet").to_pylist()
    inf_by_id = {i["influencer_id"]: i for i in inf}
    n_censored = 0
    for r, t in zip(small.rows, small.truth, strict=True):
        if t["expected_rule"] is not None:
            continue
        num = {c: parse(r[c], c) for c in NUMERIC}
        assert 1 <= num["use_count"] <= 25 and num["use_count"] <= num["Posts"]
        assert 30 <= num["Posts"] <= MAX_POSTS and 0.1 <= num["ER"] < MAX_ER
        assert canonical_url(r["URL"]) == t["influencer_id"] and r["Song"] == t["song_id"]
        assert inf_by_id[t["influencer_id"]]["dirty_rule"] is None
        delta = num["Delta"]
        if delta is None:  # blank Delta: the pipeline derives it from Curr_ER - ER
            assert t["delta"] is None
            delta = num["Curr_ER"] - num["ER"]
        else:
            assert delta == t["delta"]
        assert delta == pytest.approx(num["Curr_ER"] - num["ER"], abs=1e-5)
        if t["censored"]:
            n_censored += 1
            assert num["Curr_ER"] == 0 and delta == pytest.approx(-num["ER"])
            assert num["Likes"] in (0, None) and num["Comments"] in (0, None)
        else:
            assert num["Curr_ER"] >= 0
            if num["Likes"] is not None:
                engagement = num["Curr_ER"] / 100 * inf_by_id[t["influencer_id"]]["followers"]
                assert num["Likes"] + num["Comments"] == pytest.approx(engagement, abs=1)
    assert n_censored == sum(t["censored"] for t in small.truth if t["expected_rule"] is None)
    assert small.params["censored_rows"] == sum(t["censored"] for t in small.truth) > 0


# ---------------------------------------------------------------------------------------------
# Dirt rates, from the truth and re-detected from the files
# ---------------------------------------------------------------------------------------------
def test_dirt_redetected_from_files_matches_truth(small: Run) -> None:
    counts = small.params["dirt_counts"]
    truth_counts = {k: sum(k in t["dirt"].split(",") for t in small.truth) for k in counts}
    assert truth_counts == counts
    for kind, found in detect_dirt(small.rows).items():
        assert found == counts[kind], kind


def test_dirt_occurs_at_configured_rates(small: Run) -> None:
    rates, counts = small.params["dirt_rates"], small.params["dirt_counts"]
    n = small.params["sizes"]["n_rows"]
    n_dup = small.params["sizes"]["n_duplicate_rows"]
    exact_row_kinds = [
        "missing_url_or_song",
        "unparseable_number",
        "use_count_over_posts",
        "duplicate_url_song",
        "er_percent",
        "followers_abbrev",
        "time_text",
        "blank_likes_comments",
        "blank_time",
        "blank_delta",
    ]
    for kind in exact_row_kinds:
        assert counts[kind] == round(rates[kind] * n), kind
    assert 0.9 * rates["padded"] * n <= counts["padded"] <= rates["padded"] * n
    # Thousands separators are only recorded where a value >= 1000 actually shows a comma.
    assert 0.8 * rates["thousands_sep"] * n <= counts["thousands_sep"] <= rates["thousands_sep"] * n
    expected_variants = round(rates["url_variant"] * (n - n_dup)) + round(
        rates["url_variant_on_duplicates"] * n_dup
    )
    assert abs(counts["url_variant"] - expected_variants) <= 2
    blank_rows = sum(
        bool({"blank_likes_comments", "blank_time", "blank_delta"} & set(t["dirt"].split(",")))
        for t in small.truth
    )
    assert counts["null_token"] == round(rates["null_token"] * blank_rows) > 0


def _binomial_ok(observed: int, rate: float, n: int) -> bool:
    return abs(observed / n - rate) <= 4 * math.sqrt(rate * (1 - rate) / n) + 1 / n


def test_entity_level_dirt(small: Run) -> None:
    rates = small.params["dirt_rates"]
    inf = pq.read_table(small.out / "truth" / "influencers.parquet").to_pylist()
    songs = pq.read_table(small.out / "truth" / "songs.parquet").to_pylist()
    n = len(inf)
    dirty = [i["dirty_rule"] for i in inf]
    assert dirty.count("posts_over_max") == round(rates["posts_over_max"] * n) + 1  # + brand
    assert dirty.count("er_over_max") == round(rates["er_over_max"] * n)
    brand = [i for i in inf if i["name"] == "Bewakoof"]
    assert len(brand) == 1 and brand[0]["posts"] > 1_000_000
    for i in inf:
        if i["dirty_rule"] == "posts_over_max":
            assert i["posts"] > MAX_POSTS
        elif i["dirty_rule"] == "er_over_max":
            assert MAX_ER < i["er"] <= 40
        else:
            assert 30 <= i["posts"] <= MAX_POSTS and 0.1 <= i["er"] < MAX_ER
    assert _binomial_ok(sum(i["name"] is None for i in inf), rates["blank_name"], n)
    bio_blank = {canonical_url(r["URL"]): is_blank(r["Bio"]) for r in small.rows if r["URL"]}
    assert _binomial_ok(sum(bio_blank.values()), rates["blank_bio"], len(bio_blank))
    blank_release = sum(s["release"] is None for s in songs)
    assert _binomial_ok(blank_release, rates["blank_release"], len(songs))


# ---------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------
def test_tiers_followers_and_handles(small: Run) -> None:
    inf = pq.read_table(small.out / "truth" / "influencers.parquet").to_pylist()
    tiers = [i["tier"] for i in inf]
    assert tiers.count("celebrity") == SMALL["n_celebrities"]
    assert tiers.count("nano") + tiers.count("micro") == SMALL["n_influencers"]
    for i in inf:
        f = i["followers"]
        assert 500 <= f <= 5_000_000
        assert i["tier"] == ("nano" if f < 10_000 else "micro" if f < 80_000 else "celebrity")
        assert re.fullmatch(r"[a-z0-9._]+", i["handle"])
        assert i["influencer_id"] == f"https://www.instagram.com/{i['handle']}/"
    assert len({i["handle"] for i in inf}) == len(inf)


def test_msd_ids_and_song_order(small: Run) -> None:
    songs = pq.read_table(small.out / "truth" / "songs.parquet").to_pylist()
    ids = [s["song_id"] for s in songs]
    assert len(ids) == len(set(ids)) == SMALL["n_songs"]
    assert all(re.fullmatch(r"SO[A-Z0-9]{16}", i) for i in ids)
    assert all(r["Song"] in set(ids) for r in small.rows if not is_blank(r["Song"]))
    years = [s["year"] for s in songs]
    assert all(y == 0 or 1950 <= y <= 2010 for y in years)
    assert 0.35 <= years.count(0) / len(years) <= 0.55
    planted = [
        r["Song"]
        for r, t in zip(small.rows, small.truth, strict=True)
        if t["expected_rule"] != "duplicate_url_song" and not is_blank(r["Song"])
    ]
    assert planted == sorted(planted)


# ---------------------------------------------------------------------------------------------
# Determinism and formats
# ---------------------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(small: Run, tmp_path: Path) -> None:
    generate(tmp_path / "again", seed=SEED, **SMALL)
    assert digests(tmp_path / "again") == digests(small.out)
    generate(tmp_path / "other", seed=SEED + 1, **SMALL)
    other = digests(tmp_path / "other")
    mine = digests(small.out)
    assert other.keys() == mine.keys()
    assert all(other[f] != mine[f] for f in mine if f.startswith("raw/"))


def test_parquet_parts(tmp_path: Path) -> None:
    run = make_run(tmp_path, seed=3, fmt="parquet", part_rows=2_500, **SMALL)
    parts = sorted(p.name for p in (tmp_path / "raw").iterdir())
    assert parts == ["part-00001.parquet", "part-00002.parquet", "part-00003.parquet"]
    assert [f["rows"] for f in run.params["files"]] == [2_500, 2_500, 1_000]
    schema = pq.read_schema(tmp_path / "raw" / parts[0])
    assert schema.names == list(RAW_COLUMNS)
    assert all(str(t) == "string" for t in schema.types)
    assert run.truth[0]["source_row"] == 1 and run.truth[2_500]["source_row"] == 1
    assert reference_rules(run.rows) == [t["expected_rule"] for t in run.truth]
    assert detect_dirt(run.rows)["thousands_sep"] == run.params["dirt_counts"]["thousands_sep"]


def test_stale_outputs_are_removed(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "part-00009.parquet").write_bytes(b"old")
    (tmp_path / "raw" / "keep.txt").write_text("not ours")
    generate(tmp_path, n_influencers=60, n_celebrities=10, n_songs=60, n_rows=700)
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [
        "data1.xlsx",
        "data2.xlsx",
        "keep.txt",
    ]


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def test_cli_scale_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--scale", "3000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "3,000 source rows" in out and "parquet" in out
    params = json.loads((tmp_path / "truth" / "params.json").read_text())
    assert params["sizes"]["n_influencers_total"] == 360 and params["sizes"]["n_songs"] == 300
    assert params["format"] == "parquet" and params["seed"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--rows", "5"],  # fewer rows than influencers
        ["--songs", "-3"],
        ["--influencers", "lots"],
        ["--no-such-option"],
        ["--scale", "1000", "--rows", "2000"],
        ["--seed", "-1"],
    ],
)
def test_cli_errors_exit_2_without_traceback(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_cli_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["--out", str(blocker / "sub"), "--influencers", "50"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
