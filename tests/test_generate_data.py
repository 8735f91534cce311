"""Tests for the synthetic data generator (models_py/generate_data.py).

Small sizes keep each generation to a second or two. The raw files are re-checked with an
independent reference cleaner written here (not the generator's own bookkeeping), so a
mislabelled truth row or a dirt kind that does not parse the way the spec says fails a test.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models_py.synth import generate as gd

SMALL = {"n_influencers": 400, "n_celebrities": 80, "n_songs": 500, "n_rows": 6000}
SEED = 7
RULES = [
    "missing_url_or_song",
    "unparseable_number",
    "posts_over_max",
    "er_over_max",
    "use_count_over_posts",
    "duplicate_url_song",
]
NUMERIC = ["use_count", "Followers", "Posts", "ER", "Delta", "Curr_ER", "Comments", "Likes", "Time"]
NULLS = {"", "na", "n/a", "null", "none", "-", "nan"}
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
URL = re.compile(r"https?://(?:www\.)?instagram\.com/([A-Za-z0-9._]+)/?(?:\?.*)?", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Independent reference reader / cleaner
# ---------------------------------------------------------------------------------------------
class Junk(ValueError):
    pass


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in NULLS)


def parse(value: Any, col: str) -> float | None:
    """A cell as the loader must read it: numbers, "157,186", "0.70%", "3.3k", "2w", " 12 "."""
    if is_blank(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().replace(",", "")
    if col == "ER" and text.endswith("%"):
        text = text[:-1]
    if col == "Followers" and re.fullmatch(r"\d+(\.\d)?[km]", text):
        # A whole count, as the whole_count macro rounds it ("32.7k" is 32700.000000000004).
        return float(round(float(text[:-1]) * (1_000 if text[-1] == "k" else 1_000_000)))
    if col == "Time" and re.fullmatch(r"\d+[dw]", text):
        return float(text[:-1]) * (7 if text[-1] == "w" else 1)
    if not NUMBER.fullmatch(text):
        raise Junk(value)
    return float(text)


def canonical_url(url: str) -> str:
    match = URL.fullmatch(url.strip())
    assert match, url
    return f"https://www.instagram.com/{match.group(1).lower()}/"


def reference_rules(rows: list[dict[str, Any]]) -> list[str | None]:
    """The spec's cleaning rules, first failing rule wins, duplicates by canonical (URL, Song)."""
    seen: set[tuple[str, str]] = set()
    out: list[str | None] = []
    for row in rows:
        if is_blank(row["URL"]) or is_blank(row["Song"]):
            out.append("missing_url_or_song")
            continue
        try:
            num = {c: parse(row[c], c) for c in NUMERIC}
        except Junk:
            out.append("unparseable_number")
            continue
        if num["Posts"] > 15_000:
            out.append("posts_over_max")
        elif num["ER"] > 12:
            out.append("er_over_max")
        elif num["use_count"] > num["Posts"]:
            out.append("use_count_over_posts")
        elif (key := (canonical_url(row["URL"]), row["Song"].strip())) in seen:
            out.append("duplicate_url_song")
        else:
            seen.add(key)
            out.append(None)
    return out


def _xlsx_rows(path: Path) -> list[list[Any]]:
    """Cells as typed values, blanks as "" — read with openpyxl, independently of the loader."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    finally:
        book.close()
    width = len(rows[0])
    return [["" if v is None else v for v in r] + [""] * (width - len(r)) for r in rows]


def read_source(raw: Path) -> list[dict[str, Any]]:
    """All source rows in (file name, row) order with their file and row number."""
    rows = []
    for path in sorted(raw.iterdir()):
        if path.suffix == ".xlsx":
            sheet = _xlsx_rows(path)
            header, body, first = sheet[0], sheet[1:], 2
        else:
            table = pq.read_table(path)
            header, first = table.column_names, 1
            body = list(zip(*(table.column(c).to_pylist() for c in header), strict=True))
        assert list(header) == list(gd.COLUMNS)
        for i, values in enumerate(body):
            rows.append(dict(zip(header, values, strict=True), file=path.name, row=first + i))
    return rows


@dataclass
class Run:
    out: Path
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    truth: list[dict[str, Any]]


def make_run(out: Path, **kwargs: Any) -> Run:
    params = gd.generate(out, **kwargs)
    truth = pq.read_table(out / "truth" / "rows.parquet").to_pylist()
    return Run(out, params, read_source(out / "raw"), truth)


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return make_run(tmp_path_factory.mktemp("small"), seed=SEED, **SMALL)


@pytest.fixture(scope="module")
def default_planted() -> gd.Planted:
    """Report-sized data in memory only (no files): for the distribution targets."""
    return gd.simulate(seed=42)


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------
def test_params_json_is_the_returned_summary(small: Run) -> None:
    on_disk = json.loads((small.out / "truth" / "params.json").read_text())
    assert on_disk == small.params
    for key in ("seed", "mu", "sigma", "k", "sizes", "dirt_rates", "dirt_counts", "expected"):
        assert key in on_disk
    assert on_disk["seed"] == SEED and on_disk["k"] == 8 and on_disk["sigma"] == 1.0


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
    assert by_rule == {rule: expected.count(rule) for rule in RULES}
    assert small.params["expected"]["clean_rows"] == expected.count(None)
    assert all(by_rule[rule] > 0 for rule in RULES)


def test_truth_rule_follows_precedence_and_dirt(small: Run) -> None:
    for t in small.truth:
        kinds = t["dirt"].split(",") if t["dirt"] else []
        rejecting = [k for k in kinds if k in RULES]
        assert len(rejecting) <= 1, t
        assert t["expected_rule"] == (rejecting[0] if rejecting else None)
        assert all(k in gd.DIRT_KINDS for k in kinds)
    # Every copy comes after a clean original with the same (influencer, song).
    first_clean: dict[tuple[str, str], int] = {}
    for i, t in enumerate(small.truth):
        key = (t["influencer_id"], t["song_id"])
        if t["expected_rule"] is None:
            assert key not in first_clean, "planted data holds a duplicate pair"
            first_clean[key] = i
        elif t["expected_rule"] == "duplicate_url_song":
            assert first_clean.get(key, len(small.truth)) < i


def test_expected_rules_precedence() -> None:
    bit = gd.BIT
    bits = np.array(
        [
            0,
            bit["thousands_sep"] | bit["padded"],
            bit["duplicate_url_song"] | bit["er_over_max"],
            bit["use_count_over_posts"] | bit["posts_over_max"] | bit["url_variant"],
            bit["unparseable_number"] | bit["missing_url_or_song"],
        ]
    )
    assert [RULES[i] if i >= 0 else None for i in gd.expected_rules(bits)] == [
        None,
        None,
        "er_over_max",
        "posts_over_max",
        "missing_url_or_song",
    ]
    assert list(gd.REJECT_RULES) == RULES


def test_clean_rows_are_valid_and_carry_the_truth(small: Run) -> None:
    inf = pq.read_table(small.out / "truth" / "influencers.parquet").to_pylist()
    inf_by_id = {i["influencer_id"]: i for i in inf}
    n_censored = 0
    for r, t in zip(small.rows, small.truth, strict=True):
        if t["expected_rule"] is not None:
            continue
        num = {c: parse(r[c], c) for c in NUMERIC}
        assert 1 <= num["use_count"] <= 25 and num["use_count"] <= num["Posts"]
        assert 30 <= num["Posts"] <= 15_000 and 0.1 <= num["ER"] <= 11.9
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
def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _detect(rows: list[dict[str, Any]]) -> dict[str, int]:
    seen: set[tuple[str, str]] = set()
    found = dict.fromkeys(
        ["duplicate_url_song", "er_percent", "thousands_sep", "followers_abbrev", "time_text"]
        + ["url_variant", "padded", "blank_likes_comments", "blank_time", "blank_delta"]
        + ["missing_url_or_song"],
        0,
    )
    for r in rows:
        if is_blank(r["URL"]) or is_blank(r["Song"]):
            found["missing_url_or_song"] += 1
        else:
            key = (canonical_url(r["URL"]), r["Song"])
            found["duplicate_url_song"] += key in seen
            seen.add(key)
            found["url_variant"] += r["URL"] != canonical_url(r["URL"])
        found["er_percent"] += "%" in _text(r["ER"])
        found["thousands_sep"] += any(
            "," in _text(r[c]) for c in ("Followers", "Posts", "Likes", "Comments")
        )
        abbrev = re.fullmatch(r"\s*\d+(\.\d)?[km]\s*", _text(r["Followers"]))
        found["followers_abbrev"] += bool(abbrev)
        found["time_text"] += bool(re.fullmatch(r"\s*\d+[dw]\s*", _text(r["Time"])))
        found["padded"] += any(_text(r[c]) and _text(r[c]) != _text(r[c]).strip() for c in NUMERIC)
        found["blank_likes_comments"] += is_blank(r["Likes"]) and is_blank(r["Comments"])
        found["blank_time"] += is_blank(r["Time"])
        found["blank_delta"] += is_blank(r["Delta"])
    return found


def test_dirt_redetected_from_files_matches_truth(small: Run) -> None:
    counts = small.params["dirt_counts"]
    truth_counts = {k: sum(k in t["dirt"].split(",") for t in small.truth) for k in counts}
    assert truth_counts == counts
    for kind, found in _detect(small.rows).items():
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
            assert i["posts"] > 15_000
        elif i["dirty_rule"] == "er_over_max":
            assert 12.5 <= i["er"] <= 40
        else:
            assert 30 <= i["posts"] <= 15_000 and 0.1 <= i["er"] <= 11.9
    assert _binomial_ok(sum(i["name"] is None for i in inf), rates["blank_name"], n)
    bio_blank = {canonical_url(r["URL"]): is_blank(r["Bio"]) for r in small.rows if r["URL"]}
    assert _binomial_ok(sum(bio_blank.values()), rates["blank_bio"], len(bio_blank))
    blank_release = sum(s["release"] is None for s in songs)
    assert _binomial_ok(blank_release, rates["blank_release"], len(songs))


# ---------------------------------------------------------------------------------------------
# Entities and distributions
# ---------------------------------------------------------------------------------------------
def test_tiers_and_followers(small: Run, default_planted: gd.Planted) -> None:
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
    sizes = default_planted.params["sizes"]["tiers"]
    assert sizes["celebrity"] == 2_000 and 4_000 <= sizes["nano"] <= 7_000
    followers = default_planted.inf["followers"]
    assert np.quantile(followers[followers < 80_000], 0.95) < 60_000
    assert followers.max() > 1_000_000


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


def test_default_size_targets(default_planted: gd.Planted) -> None:
    p = default_planted.params
    assert 300 <= p["top_song_user_counts"][0] <= 450
    d = p["delta_stats"]
    assert d["p01"] >= -7.5 and d["p99"] <= 5.0
    assert -1.0 <= d["mean"] <= 0.0 and 1.7 <= d["sd"] <= 2.3
    assert 0.004 <= d["share_gt_4"] <= 0.012
    assert p["censored_rows"] < 0.02 * p["sizes"]["n_planted_rows"]
    assert 0.4 <= p["explained_variance_share"]["realised"] <= 0.6
    assert p["sizes"]["n_rows"] == 100_000


def test_usage_is_distinct_heavy_tailed_and_carries_signal(default_planted: gd.Planted) -> None:
    rows, inf, songs = default_planted.rows, default_planted.inf, default_planted.songs
    planted = (rows["bits"] & gd.BIT["duplicate_url_song"]) == 0
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


def test_artist_explains_song_popularity(default_planted: gd.Planted) -> None:
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
# Determinism and formats
# ---------------------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(small: Run, tmp_path: Path) -> None:
    gd.generate(tmp_path / "again", seed=SEED, **SMALL)
    assert digests(tmp_path / "again") == digests(small.out)
    gd.generate(tmp_path / "other", seed=SEED + 1, **SMALL)
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
    assert schema.names == list(gd.COLUMNS)
    assert all(str(t) == "string" for t in schema.types)
    assert run.truth[0]["source_row"] == 1 and run.truth[2_500]["source_row"] == 1
    assert reference_rules(run.rows) == [t["expected_rule"] for t in run.truth]
    assert _detect(run.rows)["thousands_sep"] == run.params["dirt_counts"]["thousands_sep"]


def test_stale_outputs_are_removed(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "part-00009.parquet").write_bytes(b"old")
    (tmp_path / "raw" / "keep.txt").write_text("not ours")
    gd.generate(tmp_path, n_influencers=60, n_celebrities=10, n_songs=60, n_rows=700)
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [
        "data1.xlsx",
        "data2.xlsx",
        "keep.txt",
    ]


@given(st.integers(1_000, 10**12))
def test_thousands_separators_round_trip(x: int) -> None:
    text = str(gd._thousands(np.array([x]))[0])
    assert text == f"{x:,}"


@given(st.integers(10_000, 5_000_000))
def test_abbreviated_followers_keep_tier(x: int) -> None:
    value = parse(str(gd._abbrev(np.array([x]))[0]), "Followers")
    # Instagram precision: 12.3k / 157k below a million, 1.4m above (truncated, never rounded).
    assert value <= x and (x - value) / x < (0.01 if x < 1_000_000 else 0.1)
    assert (value < 80_000) == (x < 80_000)


@given(st.integers(1, 60))
def test_time_text_matches_report_formula(x: int) -> None:
    assert str(gd._time_text(np.array([x]))[0]) == (f"{x}d" if x < 7 else f"{round(x / 7)}w")


@given(st.integers(10, 4_000).map(lambda c: c / 100))
def test_er_percent_round_trip(er: float) -> None:
    text = str(gd._percent(np.array([er]))[0])
    assert re.fullmatch(r"\d+\.\d\d%", text) and parse(text, "ER") == pytest.approx(er)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def test_scale_sizes() -> None:
    assert gd.scale_sizes(100_000) == (10_000, 2_000, 10_000)
    assert gd.scale_sizes(1_000_000) == (100_000, 20_000, 50_000)
    assert gd.scale_sizes(10_000_000) == (833_333, 166_667, 100_000)
    a, b, c = gd.scale_sizes(50_000)
    assert (a + b, c) == (6_000, 5_000)


def test_cli_scale_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gd.main(["--out", str(tmp_path), "--scale", "3000", "--seed", "1"]) == 0
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
    assert gd.main(["--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_cli_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert gd.main(["--out", str(blocker / "sub"), "--influencers", "50"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
