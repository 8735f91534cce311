"""The report's sections, one function each: the queries they show, as tables and charts."""

from __future__ import annotations

import pandas as pd

from models_py.report import charts
from models_py.report import data as q
from models_py.report.layout import Figure, Section, no_data, table

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
        # One table per row: the audit's eight columns overflow half the page.
        wide_tables=True,
    )


def distribution_figure(
    con,
    table_name: str,
    expr: str,
    title: str,
    xlabel: str,
    alt: str,
    what: str,
    lines: list[tuple[float, str]] | None = None,
    **binning,
) -> Figure:
    """A histogram of `expr`, or a note in its place when no row has it (`what`: its name)."""
    hist = q.histogram(con, table_name, expr, **binning)
    if hist is None:
        return no_data(alt, what)
    return Figure(charts.distribution(hist, title, xlabel, lines), alt)


def eda_section(con, settings: dict[str, str]) -> Section:
    max_er = float(settings.get("max_er", "nan"))
    nano = float(settings.get("tier_nano_max_followers", "nan"))
    celebrity = float(settings.get("celebrity_followers", "nan"))
    max_posts = float(settings.get("max_posts", "nan"))
    likes_comments = q.likes_vs_comments(con)
    figures = [
        distribution_figure(
            con,
            "main.influencers",
            "er",
            "Usual engagement rate (ER) per influencer",
            "ER, %",
            "Histogram of influencer engagement rate",
            "ER",
            [(max_er, f"max_er = {max_er:g}")],
        ),
        distribution_figure(
            con,
            "main.influencers",
            "followers",
            "Followers per influencer, with the tier cut-offs",
            "followers (log scale)",
            "Histogram of followers with tier cut-offs",
            "Followers",
            [(nano, f"micro from {nano:,.0f}"), (celebrity, f"celebrity from {celebrity:,.0f}")],
            log=True,
        ),
        distribution_figure(
            con,
            "main.influencers",
            "posts",
            "Lifetime posts per influencer",
            "posts",
            "Histogram of posts per influencer",
            "Posts",
            [(max_posts, f"max_posts = {max_posts:,.0f}")],
        ),
        Figure(charts.likes_vs_comments(likes_comments), "Likes versus comments")
        if len(likes_comments)
        else no_data("Likes versus comments", "reel with both Likes and Comments"),
        distribution_figure(
            con,
            "main.reels",
            "days_since_posted",
            "Time since the reel was posted (top 1 % in the last bin)",
            "days",
            "Histogram of days since posting",
            "Time (since posting)",
            upper_quantile=0.99,
            integer=True,
        ),
        distribution_figure(
            con,
            "main.reels",
            "delta",
            "Delta: the lift in engagement a song gave (the rating)",
            "Curr_ER − ER, percentage points",
            "Histogram of Delta",
            "Delta (nor ER and Curr_ER to derive it)",
            [(float(settings.get("delta_threshold", "nan")), "delta_threshold")],
            bins=60,
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
    figure = Figure(
        charts.horizontal_bars(
            used["label"].tolist(),
            used["user_count"].tolist(),
            "Songs used by most influencers",
            "influencers",
        ),
        "Bar chart of the most used songs",
    )
    absent = q.why_no_list(con, list(q.POPULARITY_NEEDS))
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
        "influencers; tier_count ranks within the influencer's follower tier."
        + "".join(f" {method} ranks no song: {why}." for method, why in absent.items()),
        [figure],
        tables,
    )


def rmse_figure(methods: pd.DataFrame) -> Figure:
    if not methods["rmse"].notna().any():
        return Figure(
            "",
            "RMSE by method",
            "No rating metric: no model learnt from Delta in this build (the input has no "
            "Delta, nor ER and Curr_ER to derive it). Nothing to plot.",
        )
    chart = charts.method_bars(
        methods, "rmse", "Rating error on held-out reels", "RMSE (lower is better)", True
    )
    return Figure(chart, "RMSE by method")


def ranking_figure(methods: pd.DataFrame) -> Figure:
    """MAP of the songs that lifted; of every song used when no held-out song has a lift to
    judge by (usage only)."""
    for metric, judged in (("map_lifted", "that lifted engagement"), ("map_used", "used")):
        if methods[metric].notna().any():
            chart = charts.method_bars(
                methods,
                metric,
                f"Ranking quality: held-out songs {judged}",
                "MAP@k (higher is better)",
                False,
            )
            return Figure(chart, "MAP at k by method")
    return Figure("", "MAP at k by method", "No ranking metric in this build. Nothing to plot.")


def models_section(con) -> Section:
    methods = q.model_comparison(con)
    skipped = q.models_not_fitted(con)
    figures = [rmse_figure(methods), ranking_figure(methods)]
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
        "newly signed influencers are (see cold_start_splits)." + _not_fitted(skipped),
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
            *(
                [("Not fitted", table(skipped, {"method": "method", "reason": "why not"}))]
                if len(skipped)
                else []
            ),
        ],
        wide_tables=True,
    )


def _not_fitted(skipped: pd.DataFrame) -> str:
    """' Not fitted in this build: a, b (no song metadata); …' (model_runs), or ''."""
    if skipped.empty:
        return ""
    said = "; ".join(
        f"{', '.join(rows['method'])} ({reason})"
        for reason, rows in skipped.groupby("reason", sort=False)
    )
    return f" Not fitted in this build: {said}."


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
