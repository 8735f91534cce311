"""The report's example recommendations: one influencer per tier and a few methods' picks."""

from __future__ import annotations

import pandas as pd

from models_py.report import data as q
from models_py.report.layout import Section, Table, table

EXAMPLE_METHODS = ["er_biased_mf", "content", "item_knn", "count"]


def picks_by_method(picks: pd.DataFrame, methods: list[str]) -> Table:
    """Rank × method grid of 'title — artist', one column per method of `methods`."""
    grid = picks.pivot(index="rank", columns="method", values="song").reset_index()
    return table(grid, {"rank": "rank", **{m: m for m in methods if m in grid.columns}})


def _heading(person) -> str:
    name = person.influencer_name or person.handle
    followers = (
        "followers unknown" if pd.isna(person.followers) else f"{person.followers:,.0f} followers"
    )
    er = "ER unknown" if pd.isna(person.er) else f"ER {person.er:.2f} %"
    used = f"{person.songs_used} songs used"
    return f"{name} (@{person.handle}), {person.tier}, {followers}, {er}, {used}"


def _absent(methods: list[str], why: dict[str, str]) -> str:
    """' Without a list in this build: m (why); …' for the example methods without picks."""
    if not methods:
        return ""
    said = "; ".join(f"{m} ({why.get(m, 'no list for these influencers')})" for m in methods)
    return f" Without a list in this build: {said}."


def example_methods(con) -> list[str]:
    """The run's default method first (run_settings), then EXAMPLE_METHODS."""
    chosen = q.settings(con).get("default_method")
    return list(dict.fromkeys([chosen, *EXAMPLE_METHODS] if chosen else EXAMPLE_METHODS))


def examples_section(con) -> Section:
    tables = []
    shown: set[str] = set()
    methods_asked = example_methods(con)
    for person in q.example_influencers(con).itertuples(index=False):
        heading = _heading(person)
        used = q.songs_used_by(con, person.influencer_id)
        picks = q.example_recommendations(con, person.influencer_id, methods_asked)
        shown |= set(picks["method"])
        tables.append(
            (
                heading + " — songs used, best lift first",
                table(used, {"title": "title", "artist_name": "artist", "delta": "Delta"}),
            )
        )
        tables.append((heading + " — recommended", picks_by_method(picks, methods_asked)))
    methods = [m for m in methods_asked if m in shown]
    absent = [m for m in methods_asked if m not in shown]
    return Section(
        "examples",
        "Example recommendations",
        "The most active influencer of each tier, the songs they used (best lift first) and "
        f"what {len(methods)} method{'s' if len(methods) != 1 else ''} ({', '.join(methods)}) "
        f"recommend next, led by the run's default method, {methods_asked[0]} (chosen on a "
        "validation cut of the training reels: model_runs.validation_map)."
        + _absent(absent, q.why_no_list(con, absent))
        + " Any influencer, with the reason for each pick: `reelrec recommend <handle>` or "
        "the recommendations table.",
        tables=tables,
        wide_tables=True,
    )
