"""The dbt vars, declared once: each one's type and range, and the relations between them.

Their defaults live in dbt_project.yml; a run's overrides come from `--var`, a scheduler or a
form. `check` validates the two together before anything runs, so every var reaches the SQL
as a number within its range (dbt_project/macros/settings.sql renders them and refuses any
other), and a typo or a nonsense value is one clear line instead of a wrong warehouse.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# The longest list a user can ask for: the top_n var and the CLI's -n. Every list is also
# cut at the catalogue's size, and memory grows with lists x influencers.
MAX_LIST_LENGTH = 100
# Vars the run sets itself; an override would be silently replaced.
SET_BY_RUN = frozenset({"run_id"})
BIG = 10**12  # a ceiling for counts no data set reaches, so that no count is unbounded

# What `serve_methods` may name (this module imports nothing of the models):
# The popularity methods: SQL (popularity_recommendations), always served to everyone.
POPULARITY_METHODS: tuple[str, ...] = (
    "celebrity_count",
    "celebrity_sorted",
    "count",
    "more_performing",
    "tier_count",
    "trending",
)

# The models with lists for everyone (registry specs with serve=True): the run's default
# method and those named in `serve_methods` are served; the others on demand from their
# fitted parts. The registry test checks this list against the specs.
SERVABLE_METHODS: tuple[str, ...] = (
    "er_bias_baseline",
    "item_knn",
    "item_knn_bm25",
    "ease",
    "knn_baseline",
    "biased_mf",
    "er_biased_mf",
    "content",
    "hybrid",
    "artist_topics",
    "two_stage",
)


class VarError(ValueError):
    """A var that is unknown, malformed or out of its range; the message is one line."""


class DbtVars(BaseModel):
    """Every var the dbt project reads. Strict: a number must be given as a number (text is
    parsed by `parse_text` first), never nan or infinite; an int var takes no fraction."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    max_er: float = Field(gt=0, le=1000)
    max_posts: int = Field(ge=1, le=BIG)
    max_engagement_pct: float = Field(gt=0, le=BIG)
    # Days since a reel was posted: Reels began in 2020, and a Time past a century is a unit
    # mistake (a duration's microseconds read as days), never an old reel.
    max_days_since_posted: float = Field(gt=0, le=36500)
    tier_nano_max_followers: int = Field(ge=1, le=BIG)
    celebrity_followers: int = Field(ge=1, le=BIG)
    top_n: int = Field(ge=1, le=MAX_LIST_LENGTH)
    min_user_count: int = Field(ge=1, le=BIG)
    delta_threshold: float = Field(ge=-BIG, le=BIG)
    lift_threshold: float = Field(ge=-BIG, le=BIG)
    trending_half_life_days: float = Field(gt=0, le=36500)
    split_seed: int = Field(ge=0, lt=2**63)
    # Whole percents: the split compares a whole-number md5 bucket (0..99) with them.
    test_percent: int = Field(ge=1, le=99)
    cold_percent: int = Field(ge=1, le=99)
    eval_k: int = Field(ge=1, le=MAX_LIST_LENGTH)
    eval_max_influencers: int = Field(ge=1, le=BIG)
    faithful_max_ratings: int = Field(ge=0, le=BIG)
    # Models listed for every influencer beside the default method: comma-separated names.
    serve_methods: str = Field(pattern=r"^([a-z0-9_]+(,[a-z0-9_]+)*)?$", max_length=400)
    run_id: str = Field(pattern=r"^[0-9a-z_]{1,64}$")

    def serve_method_names(self) -> list[str]:
        return [name for name in self.serve_methods.split(",") if name]

    @model_validator(mode="after")
    def _relations(self) -> DbtVars:
        known = (*SERVABLE_METHODS, *POPULARITY_METHODS)
        unknown = [name for name in self.serve_method_names() if name not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"servable: {', '.join(known)}"
            raise ValueError(f"serve_methods names no servable method '{unknown[0]}'; {hint}")
        if self.celebrity_followers <= self.tier_nano_max_followers:
            raise ValueError(
                f"celebrity_followers ({self.celebrity_followers}) must be above "
                f"tier_nano_max_followers ({self.tier_nano_max_followers}): "
                "the tiers are nano < micro < celebrity"
            )
        if self.eval_k > self.top_n:
            raise ValueError(
                f"eval_k ({self.eval_k}) must not exceed top_n ({self.top_n}): "
                f"the lists judged at k would be shorter than k (set eval_k to {self.top_n} too)"
            )
        if self.delta_threshold >= self.max_engagement_pct:
            raise ValueError(
                f"delta_threshold ({self.delta_threshold:g}) must be below max_engagement_pct "
                f"({self.max_engagement_pct:g}): no kept reel could perform"
            )
        if self.lift_threshold >= self.max_engagement_pct:
            raise ValueError(
                f"lift_threshold ({self.lift_threshold:g}) must be below max_engagement_pct "
                f"({self.max_engagement_pct:g}): no kept reel could count as lifted"
            )
        return self


NAMES: tuple[str, ...] = tuple(DbtVars.model_fields)


def parse_text(name: str, text: str) -> Any:
    """A var's value from text (`--var`, run_settings): a number when it reads as one, so that
    the schema, not the parser, says what is wrong with it."""
    if DbtVars.model_fields[name].annotation is str:
        return text
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """`name=value` pairs (`--var max_er=10`) as overrides; not yet checked against the ranges."""
    parsed: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise VarError(f"'{item}' is not of the form name=value")
        _refuse_unknown([name])
        if name in SET_BY_RUN:
            raise VarError(f"{name} is set by the run itself and cannot be overridden")
        if name in parsed:
            raise VarError(f"{name} is given twice")
        parsed[name] = parse_text(name, text)
    return parsed


def check(overrides: Mapping[str, Any], defaults: Mapping[str, Any]) -> DbtVars:
    """The vars a run uses, the defaults with the overrides on top, each within its range and
    the relations between them holding; raises VarError naming every var that is not."""
    _refuse_unknown(overrides)
    try:
        return DbtVars.model_validate({**defaults, **overrides})
    except ValidationError as exc:
        raise VarError("; ".join(_describe(e, overrides) for e in exc.errors())) from None


def from_settings(rows: Iterable[tuple[str, str]]) -> DbtVars:
    """The vars a warehouse was built with (run_settings: name and value as text), checked
    like a run's: a warehouse's settings are read back only through the same ranges."""
    return check({name: parse_text(name, text) for name, text in rows}, {})


def _refuse_unknown(names: Iterable[str]) -> None:
    for name in names:
        if name not in DbtVars.model_fields:
            close = difflib.get_close_matches(name, NAMES, n=1)
            hint = f"did you mean {close[0]}?" if close else f"the vars: {', '.join(NAMES)}"
            raise VarError(f"no var '{name}'; {hint}")


def _describe(error: Mapping[str, Any], overrides: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # a relation between vars
        return message
    name = str(error["loc"][0])
    if error["type"] == "missing":
        return f"{name} has no default in dbt_project.yml"
    where = "" if name in overrides else " (the default in dbt_project.yml)"
    value = repr(error["input"])
    value = value if len(value) <= 60 else value[:57] + "..."
    return f"{name}={value}{where}: {message[0].lower()}{message[1:]}"
