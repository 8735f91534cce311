"""The report's sections, one function each: the queries they show, as tables and charts."""

from __future__ import annotations

import pandas as pd

from models_py.report import charts
from models_py.report import data as q
from models_py.report.layout import Figure, Section, Table, table

EXAMPLE_METHODS = ["er_biased_mf", "content", "item_knn", "count"]
COLD_START_TITLES = {"cold_song": "new songs", "cold_influencer": "new influencers"}


def overview_section(con, settings: dict[str, str]) -> Section:
    o = q.overview(con)
    share = o["rows_quarantined"] / o["rows_read"] if o["rows_read"] else 0.0
    facts = pd.DataFrame(
        [
            ("Input files", o["files"]),
            ("Rows read", o["rows_read"]),
            ("Clean reels", o["rows_clean"]),
            ("Quarantined rows", o["rows_quarantined"]),
            ("Influencers", o["influencers"]),
            ("Songs", o["songs"]),
            ("Run id", settings.get("run_id", "—")),
        ],
        columns=["what", "value"],
    )
    return Section(
        "overview",
        "Overview",
        f"{o['rows_read']:,} rows read from {o['files']} file(s); {o['rows_clean']:,} clean "
        f"reels and {o['rows_quarantined']:,} quarantined ({share:.1%}), each with the rule "
        "that rejected it. Nothing else was dropped.",
        tables=[("", table(facts))],
    )


def rows_section(con) -> Section:
    rules = q.rejected_by_rule(con)
    figures = []
    if len(rules):
        figures.append(
            Figure(
                charts.horizontal_bars(
                    rules["rejection_rule"].tolist(),
                    rules["reels"].tolist(),
                    "Quarantined rows by rule",
                    "rows",
                ),
                "Bar chart of quarantined rows by rejection rule",
            )
        )
    audit = table(
        q.file_audit(con),
        {
            "source_file": "file",
            "sheet": "sheet",
            "file_format": "format",
            "rows_read": "read",
            "rows_clean": "clean",
            "rows_quarantined": "quarantined",
            "rows_delta_derived": "Delta derived",
            "lost_cell_count": "lost cells",
        },
    )
    return Section(
        "rejected",
        "Where the rows went",
        "Every input row ends up either clean or in quarantined_reels with one rejection rule "
        "(the first that applies, in the README's order). Query quarantined_reels for the raw "
        "values of any of them.",
        figures,
        [("Rows per file", audit), ("Quarantined by rule", table(rules))],
    )


def eda_section(con, settings: dict[str, str]) -> Section:
    max_er = float(settings.get("max_er", "nan"))
    nano = float(settings.get("tier_nano_max_followers", "nan"))
    celebrity = float(settings.get("celebrity_followers", "nan"))
    max_posts = float(settings.get("max_posts", "nan"))
    figures = [
        Figure(
            charts.distribution(
                q.histogram(con, "main.influencers", "er"),
                "Usual engagement rate (ER) per influencer",
                "ER, %",
                [(max_er, f"max_er = {max_er:g}")],
            ),
            "Histogram of influencer engagement rate",
        ),
        Figure(
            charts.distribution(
                q.histogram(con, "main.influencers", "followers", log=True),
                "Followers per influencer, with the tier cut-offs",
                "followers (log scale)",
                [
                    (nano, f"micro from {nano:,.0f}"),
                    (celebrity, f"celebrity from {celebrity:,.0f}"),
                ],
            ),
            "Histogram of followers with tier cut-offs",
        ),
        Figure(
            charts.distribution(
                q.histogram(con, "main.influencers", "posts"),
                "Lifetime posts per influencer",
                "posts",
                [(max_posts, f"max_posts = {max_posts:,.0f}")],
            ),
            "Histogram of posts per influencer",
        ),
        Figure(charts.likes_vs_comments(q.likes_vs_comments(con)), "Likes versus comments"),
        Figure(
            charts.distribution(
                q.histogram(
                    con, "main.reels", "days_since_posted", upper_quantile=0.99, integer=True
                ),
                "Time since the reel was posted (top 1 % in the last bin)",
                "days",
            ),
            "Histogram of days since posting",
        ),
        Figure(
            charts.distribution(
                q.histogram(con, "main.reels", "delta", bins=60),
                "Delta: the lift in engagement a song gave (the rating)",
                "Curr_ER − ER, percentage points",
                [(float(settings.get("delta_threshold", "nan")), "delta_threshold")],
            ),
            "Histogram of Delta",
        ),
    ]
    tiers = table(
        q.tier_counts(con),
        {"tier": "tier", "influencers": "influencers", "min_followers": "from followers"},
    )
    return Section(
        "influencers",
        "The influencers and their reels",
        "The report's exploratory plots on the clean data. Dashed lines are the thresholds "
        "this warehouse was built with (run_settings).",
        figures,
        [("Influencers by tier", tiers)],
    )


def popularity_section(con) -> Section:
    used = q.most_used_songs(con)
    labels = [f"{t} — {a}" for t, a in zip(used["title"], used["artist_name"], strict=True)]
    figure = Figure(
        charts.horizontal_bars(
            labels, used["user_count"].tolist(), "Songs used by most influencers", "influencers"
        ),
        "Bar chart of the most used songs",
    )
    leaders = q.popularity_leaders(con)
    tables = [
        (
            f"{method}" + (f" ({segment})" if segment != "all" else ""),
            table(
                rows,
                {"song_rank": "rank", "title": "title", "artist_name": "artist", "score": "score"},
            ),
        )
        for (method, segment), rows in leaders.groupby(["method", "segment"], sort=True)
    ]
    return Section(
        "popularity",
        "Popularity leaders",
        "The songs each popularity method puts first before leaving out an influencer's own "
        "songs (popularity_rankings). count keeps songs used by at least min_user_count "
        "influencers; tier_count ranks within the influencer's follower tier.",
        [figure],
        tables,
    )


def models_section(con) -> Section:
    methods = q.model_comparison(con)
    figures = []
    if methods["rmse"].notna().any():
        figures.append(
            Figure(
                charts.method_bars(
                    methods,
                    "rmse",
                    "Rating error on held-out reels",
                    "RMSE (lower is better)",
                    True,
                ),
                "RMSE by method",
            )
        )
    if methods["map_lifted"].notna().any():
        figures.append(
            Figure(
                charts.method_bars(
                    methods,
                    "map_lifted",
                    "Ranking quality: held-out songs that lifted engagement",
                    "MAP@k (higher is better)",
                    False,
                ),
                "MAP at k by method",
            )
        )
    cold = q.cold_start_comparison(con)
    tables = []
    for scenario, rows in cold.groupby("scenario", sort=True):
        figures.append(
            Figure(
                charts.method_bars(
                    rows,
                    "map_used",
                    f"Cold start ({COLD_START_TITLES.get(scenario, scenario)}): MAP@k",
                    "MAP@k, songs used (higher is better)",
                    False,
                ),
                f"MAP at k by method, scenario {scenario}",
            )
        )
        tables.append(
            (
                f"Metrics ({scenario} scenario)",
                table(
                    rows,
                    {
                        "method": "method",
                        "family": "family",
                        "map_used": "MAP used",
                        "recall_used": "recall used",
                        "map_lifted": "MAP lifted",
                        "users_evaluated": "influencers",
                    },
                ),
            )
        )
    return Section(
        "models",
        "How the methods compare",
        "All methods are judged on the same held-out reels (evaluation_splits) by the same SQL "
        "(model_metrics). The dashed line is the oracle: the generator's planted model, the best "
        "any method could do (present only on generated data). Baselines are the floor to beat. "
        "Cold start: songs or influencers whose every reel was held out, as new releases and "
        "newly signed influencers are (see cold_start_splits).",
        figures,
        [
            (
                "Metrics (warm scenario)",
                table(
                    methods,
                    {
                        "method": "method",
                        "family": "family",
                        "rmse": "RMSE",
                        "mae": "MAE",
                        "map_used": "MAP used",
                        "map_lifted": "MAP lifted",
                        "ndcg_lifted": "nDCG lifted",
                        "coverage": "coverage",
                    },
                ),
            ),
            *tables,
        ],
        wide_tables=True,
    )


def picks_by_method(picks: pd.DataFrame) -> Table:
    """Rank × method grid of 'title — artist', methods in EXAMPLE_METHODS order."""
    labelled = picks.assign(
        song=picks["title"].fillna("?") + " — " + picks["artist_name"].fillna("?")
    )
    grid = labelled.pivot(index="rank", columns="method", values="song").reset_index()
    methods = [m for m in EXAMPLE_METHODS if m in grid.columns]
    return table(grid, {"rank": "rank", **{m: m for m in methods}})


def examples_section(con) -> Section:
    tables = []
    for person in q.example_influencers(con).itertuples(index=False):
        name = person.influencer_name or person.handle
        used = q.songs_used_by(con, person.influencer_id)
        picks = q.example_recommendations(con, person.influencer_id, EXAMPLE_METHODS)
        heading = (
            f"{name} (@{person.handle}), {person.tier}, {person.followers:,} followers, "
            f"ER {person.er:.2f} %, {person.songs_used} songs used"
        )
        tables.append(
            (
                heading + " — best-lifting songs used",
                table(used, {"title": "title", "artist_name": "artist", "delta": "Delta"}),
            )
        )
        tables.append((heading + " — recommended", picks_by_method(picks)))
    return Section(
        "examples",
        "Example recommendations",
        "The most active influencer of each tier, the songs that lifted their engagement most "
        f"and what {len(EXAMPLE_METHODS)} methods ({', '.join(EXAMPLE_METHODS)}) recommend "
        "next. Any influencer, with the reason for each pick: `reelrec recommend <handle>` or "
        "the recommendations table.",
        tables=tables,
        wide_tables=True,
    )


def settings_section(con) -> Section:
    return Section(
        "settings",
        "Settings of this build",
        "The dbt vars this warehouse was built with; change them with `reelrec run --var`.",
        tables=[
            (
                "",
                table(
                    q.frame(con, "select * from main.run_settings order by setting"),
                    {"setting": "setting", "setting_value": "value", "description": "meaning"},
                ),
            )
        ],
        wide_tables=True,
    )
