"""The dbt parsing macros, exercised in DuckDB: examples and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sql_macros import evaluate


def test_number_examples() -> None:
    texts = ["1,636", "0.70%", "3.3k", "475.8m", " 12 ", "2B", "-7.719", "1e3", ".5"]
    assert evaluate("parse_number('x')", texts) == pytest.approx(
        [1636, 0.7, 3300, 475_800_000, 12, 2e9, -7.719, 1000, 0.5], rel=1e-12
    )


def test_null_tokens_with_a_percent_sign_are_blanks() -> None:
    """A percent-formatted column writes its missing values as "NaN%": blank, like "nan"."""
    texts = ["NaN%", "nan %", "N/A%", "na%", "-%", "nan"]
    assert evaluate("parse_number('x')", texts) == [None] * len(texts)
    assert evaluate("is_unparseable('x', parse_number('x'))", texts) == [False] * len(texts)
    # Still junk: a percent sign alone, or with a word that is no null token.
    assert evaluate("is_unparseable('x', parse_number('x'))", ["%", "nil%", "nan%%"]) == [True] * 3


def test_junk_and_blanks_are_not_numbers() -> None:
    texts = ["1,5", "12abc", "1.2.3", "#VALUE!", "lots", "inf", "", "NA", "n/a", "-", None]
    assert evaluate("parse_number('x')", texts) == [None] * len(texts)
    unparseable = evaluate("is_unparseable('x', parse_number('x'))", texts)
    assert unparseable == [True] * 6 + [False] * 5


def test_count_rejects_fractions() -> None:
    assert evaluate("parse_count('x')", ["3", "3.0", "2.5", "3.3k", "1,000"]) == [
        3,
        3,
        None,
        3300,
        1000,
    ]


@settings(deadline=None)
@given(
    hundreds=st.integers(min_value=0, max_value=10**7),
    style=st.sampled_from(["k", "K", "m", "thousands", "plain"]),
)
def test_abbreviated_counts_parse_to_whole_numbers(hundreds: int, style: str) -> None:
    """Counts like "16.1k" survive binary floating point: 16.1 * 1000 is not 16100."""
    count = hundreds * 100 if style != "m" else hundreds * 100_000
    text = {
        "k": f"{count / 1e3:.1f}".removesuffix(".0") + "k",
        "K": f"{count / 1e3:.1f}".removesuffix(".0") + "K",
        "m": f"{count / 1e6:.1f}".removesuffix(".0") + "m",
        "thousands": f"{count:,}",
        "plain": str(count),
    }[style]
    assert evaluate("parse_count('x')", [text]) == [count], text


def test_days_examples() -> None:
    texts = ["3d", "2w", "4W", "15", "12h", "3 days", "1 week", "soon", None]
    assert evaluate("parse_days('x')", texts) == [3, 14, 28, 15, 0.5, 3, 7, None, None]


def _format_number(value: float, style: str) -> str:
    """Write a number the ways scraped data does."""
    if style == "thousands":
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    if style == "percent":
        return f"{value:.2f}%"
    if style == "padded":
        return f"  {value}  "
    if style == "k":
        return f"{value / 1e3:g}k"
    if style == "m":
        return f"{value / 1e6:g}M"
    return repr(value)


@settings(deadline=None)
@given(
    value=st.one_of(
        st.integers(min_value=0, max_value=10**12).map(float),
        st.floats(min_value=-1e6, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2)),
    ),
    style=st.sampled_from(["plain", "thousands", "percent", "padded", "k", "m"]),
)
def test_any_formatted_number_parses_back(value: float, style: str) -> None:
    text = _format_number(value, style)
    expected = float(text.strip().rstrip("%kKmM").replace(",", ""))
    expected *= {"k": 1e3, "m": 1e6}.get(style, 1)
    (parsed,) = evaluate("parse_number('x')", [text])
    assert parsed is not None, text
    assert math.isclose(parsed, expected, rel_tol=1e-12, abs_tol=1e-9), (text, parsed)


@settings(deadline=None)
@given(days=st.integers(min_value=0, max_value=400), unit=st.sampled_from(["", "d", "w", " days"]))
def test_any_time_text_parses_to_days(days: int, unit: str) -> None:
    (parsed,) = evaluate("parse_days('x')", [f"{days}{unit}"])
    assert parsed == days * (7 if unit == "w" else 1)


@settings(deadline=None)
@given(
    handle=st.from_regex(r"[a-z0-9_][a-z0-9_.]{0,28}[a-z0-9_]", fullmatch=True),
    scheme=st.sampled_from(["https://", "http://", ""]),
    host=st.sampled_from(["www.instagram.com", "instagram.com", "m.instagram.com"]),
    upper=st.booleans(),
    slash=st.sampled_from(["", "/", "//"]),
    query=st.sampled_from(["", "?igshid=abc123", "?hl=en", "#x"]),
)
def test_url_variants_share_one_canonical_form(
    handle: str, scheme: str, host: str, upper: bool, slash: str, query: str
) -> None:
    url = f"{scheme}{host}/{handle.upper() if upper else handle}{slash}{query}"
    (canonical,) = evaluate("canonical_url('x')", [url])
    assert canonical == f"https://www.instagram.com/{handle}/"


@settings(deadline=None)
@given(
    handle=st.from_regex(r"[a-z0-9_][a-z0-9_.]{0,28}[a-z0-9_]", fullmatch=True),
    form=st.sampled_from(["{}", "@{}", "{}/", "instagram.com/{}", "www.instagram.com/{}/",
                          "instagram.com/@{}", "https://www.instagram.com/{}/?hl=en"]),
    upper=st.booleans(),
)  # fmt: skip
def test_a_bare_handle_is_the_same_influencer_as_its_url(
    handle: str, form: str, upper: bool
) -> None:
    """'cristiano', '@Cristiano' and the profile URL are one influencer, with its handle."""
    text = form.format(handle.upper() if upper else handle)
    (canonical, found) = (
        evaluate("canonical_url('x')", [text])[0],
        evaluate("instagram_handle(canonical_url('x'))", [text])[0],
    )
    assert (canonical, found) == (f"https://www.instagram.com/{handle}/", handle), text


def test_other_urls_keep_their_own_key_without_a_handle() -> None:
    texts = ["https://twitter.com/Carol?s=1", "Carol Smith", "instagram.com/p/abc/"]
    assert evaluate("canonical_url('x')", texts) == [
        "https://twitter.com/carol/",
        "carol smith/",
        "https://www.instagram.com/p/abc/",
    ]
    assert evaluate("instagram_handle(canonical_url('x'))", texts) == [None] * 3
