"""What the HTML report shows, read from a built warehouse alone.

Every distribution is binned in SQL, so the report costs the same few small result sets whether
the warehouse holds ten thousand reels or ten million.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Histogram:
    """Bin edges (len n+1) and counts (len n); `log` when the edges are powers of ten."""

    edges: np.ndarray
    counts: np.ndarray
    log: bool = False


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def settings(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select setting, setting_value from main.run_settings").fetchall())


def histogram(
    con: duckdb.DuckDBPyConnection,
    table: str,
    expr: str,
    bins: int = 40,
    log: bool = False,
    upper_quantile: float = 1.0,
    integer: bool = False,
) -> Histogram | None:
    """Equal-width bins of `expr` (of log10(expr) when `log`) over the non-null rows; None
    when every row is null (the input had no such column).

    `upper_quantile` < 1 trims a long right tail into the last bin so the bulk stays readable;
    `integer` makes bins whole units wide (counts of days would otherwise leave empty bins).
    """
    value = f"log10(greatest({expr}, 1))" if log else expr
    lo, hi = con.execute(
        f"select min({value}), quantile_cont({value}, {upper_quantile}) "
        f"from {table} where {expr} is not null"
    ).fetchall()[0]
    if lo is None:
        return None
    hi = hi if hi > lo else lo + 1
    width = (hi - lo) / bins
    if integer:
        lo, width = float(np.floor(lo)), float(max(1, np.ceil((hi - np.floor(lo) + 1) / bins)))
        bins = max(1, int(np.ceil((hi - lo + 1) / width)))
    rows = con.execute(
        f"select least(cast(floor(({value} - ?) / ?) as integer), ?) as bin, count(*) "
        f"from {table} where {expr} is not null group by bin",
        [lo, width, bins - 1],
    ).fetchall()
    counts = np.zeros(bins, dtype=np.int64)
    for b, n in rows:
        counts[b] = n
    return Histogram(lo + width * np.arange(bins + 1), counts, log)


def likes_vs_comments(con: duckdb.DuckDBPyConnection, bins: int = 40) -> pd.DataFrame:
    """Reels counted on a log10 grid of (likes + 1, comments + 1)."""
    return frame(
        con,
        """
        with logged as (
            select log10(likes + 1) as x, log10(comments + 1) as y
            from main.reels
            where likes >= 0 and comments >= 0
        ),
        bounds as (select max(x) as max_x, max(y) as max_y from logged)
        select
            least(cast(floor(x / (greatest(max_x, 1e-9) / ?)) as integer), ? - 1) as bin_x,
            least(cast(floor(y / (greatest(max_y, 1e-9) / ?)) as integer), ? - 1) as bin_y,
            any_value(max_x) as max_x,
            any_value(max_y) as max_y,
            count(*) as reels
        from logged cross join bounds
        group by bin_x, bin_y
        """,
        [bins, bins, bins, bins],
    )


def overview(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    read, clean, quarantined, files = con.execute(
        "select sum(rows_read), sum(rows_clean), sum(rows_quarantined), "
        "count(distinct source_file) from main.source_file_audit"
    ).fetchall()[0]
    influencers, songs = con.execute(
        "select (select count(*) from main.influencers), (select count(*) from main.songs)"
    ).fetchall()[0]
    return {
        "rows_read": int(read or 0),
        "rows_clean": int(clean or 0),
        "rows_quarantined": int(quarantined or 0),
        "files": int(files or 0),
        "influencers": int(influencers),
        "songs": int(songs),
    }


def rejected_by_rule(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return frame(
        con,
        "select rejection_rule, count(*) as reels from main.quarantined_reels "
        "group by rejection_rule order by reels desc, rejection_rule",
    )


def file_audit(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return frame(
        con,
        "select source_file, coalesce(source_sheet, '') as sheet, file_format, rows_read, "
        "rows_clean, rows_quarantined, rows_delta_derived, lost_cell_count "
        "from main.source_file_audit order by source_file, sheet",
    )


def tier_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return frame(
        con,
        "select tier, count(*) as influencers, min(followers) as min_followers "
        "from main.influencers group by tier order by min_followers",
    )


def popularity_leaders(con: duckdb.DuckDBPyConnection, n: int = 5) -> pd.DataFrame:
    """Each popularity method's top songs over all influencers (tier_count: per tier)."""
    return frame(
        con,
        """
        select
            r.method,
            r.segment,
            r.song_rank,
            s.title,
            s.artist_name,
            r.score,
            s.user_count
        from main.popularity_rankings as r
        inner join main.songs as s on s.song_id = r.song_id
        where r.song_rank <= ?
        order by r.method, r.segment, r.song_rank
        """,
        [n],
    )


def most_used_songs(con: duckdb.DuckDBPyConnection, n: int = 15) -> pd.DataFrame:
    """The n songs most influencers used, labelled 'title — artist' (the song id when the
    input had no title)."""
    return frame(
        con,
        "select coalesce(title, song_id) || coalesce(' — ' || artist_name, '') as label, "
        "user_count, mean_delta from main.songs order by user_count desc, song_id limit ?",
        [n],
    )


def models_not_fitted(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The models the run did not fit, and why (model_runs)."""
    return frame(
        con,
        "select method, family, not_fitted_reason as reason from main.model_runs "
        "where not_fitted_reason is not null order by reason, method",
    )


def model_comparison(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per method (warm scenario): its family and headline metrics."""
    return frame(
        con,
        """
        select
            method,
            any_value(family) as family,
            max(value) filter (where metric = 'rmse') as rmse,
            max(value) filter (where metric = 'mae') as mae,
            max(value) filter (where metric = 'map' and relevance = 'used') as map_used,
            max(value) filter (where metric = 'map' and relevance = 'lifted') as map_lifted,
            max(value) filter (where metric = 'ndcg' and relevance = 'lifted') as ndcg_lifted,
            max(value) filter (where metric = 'coverage') as coverage
        from main.model_metrics
        where scenario = 'warm'
        group by method
        order by map_lifted desc nulls last, method
        """,
    )


def cold_start_comparison(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per cold-start scenario and method: ranking quality on songs or influencers
    the models never saw used (empty when the warehouse has no cold-start evaluation)."""
    return frame(
        con,
        """
        select
            scenario,
            method,
            any_value(family) as family,
            max(value) filter (where metric = 'map' and relevance = 'used') as map_used,
            max(value) filter (where metric = 'recall' and relevance = 'used') as recall_used,
            max(value) filter (where metric = 'map' and relevance = 'lifted') as map_lifted,
            max(users_evaluated) filter (where metric = 'map' and relevance = 'used')
                as users_evaluated
        from main.model_metrics
        where scenario <> 'warm'
        group by scenario, method
        order by scenario, map_used desc nulls last, method
        """,
    )


def example_influencers(con: duckdb.DuckDBPyConnection, per_tier: int = 1) -> pd.DataFrame:
    """The influencer with most songs used in each tier: worth showing, and stable run to run."""
    return frame(
        con,
        """
        select influencer_id, handle, influencer_name, tier, followers, er, songs_used
        from main.influencers
        where handle is not null
        qualify row_number() over (
            partition by tier order by songs_used desc, handle
        ) <= ?
        order by min(followers) over (partition by tier), handle
        """,
        [per_tier],
    )


def example_recommendations(
    con: duckdb.DuckDBPyConnection, influencer_id: str, methods: list[str], n: int = 10
) -> pd.DataFrame:
    """An influencer's picks by `methods`; song: 'title — artist' (the song id when the input
    had no title)."""
    return frame(
        con,
        "select method, rank, coalesce(title, song_id) || coalesce(' — ' || artist_name, '') "
        "as song, score, reason from main.recommendations "
        "where influencer_id = ? and list_contains(?, method) and rank <= ? "
        "order by not is_default, method, rank",
        [influencer_id, methods, n],
    )


# Why a popularity method (dbt_project/macros/popularity.sql) can rank no song: what its
# ranking needs that the clean reels may lack, with the var it is judged against.
POPULARITY_NEEDS = {
    "celebrity_sorted": ("no influencer is known to have celebrity_followers = {} or more "
                         "followers", "celebrity_followers"),
    "celebrity_count": ("no influencer is known to have celebrity_followers = {} or more "
                        "followers", "celebrity_followers"),
    "count": ("no song is used by min_user_count = {} influencers or more", "min_user_count"),
    "more_performing": ("no reel has a Delta above delta_threshold = {}", "delta_threshold"),
    "trending": ("no reel has both Curr_ER and Time", None),
    "tier_count": ("no clean reel", None),
}  # fmt: skip


def why_no_list(con: duckdb.DuckDBPyConnection, methods: list[str]) -> dict[str, str]:
    """Why each of `methods` that has no lists in this build has none: the model was not
    fitted (model_runs), or the popularity method ranks no song (POPULARITY_NEEDS)."""
    why = dict(
        con.execute(
            "select method, not_fitted_reason from main.model_runs "
            "where list_contains(?, method) and not_fitted_reason is not null",
            [methods],
        ).fetchall()
    )
    ranked = {
        method
        for (method,) in con.execute(
            "select distinct method from main.popularity_rankings"
        ).fetchall()
    }
    values = settings(con)
    for method in methods:
        if method in POPULARITY_NEEDS and method not in ranked:
            text, var = POPULARITY_NEEDS[method]
            why[method] = text.format(values.get(var, var)) if var else text
    return why


def methods_without_lists(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every method this build has no lists for (models not fitted, popularity methods that
    rank nothing), and why."""
    models = [m for (m,) in con.execute("select method from main.model_runs").fetchall()]
    return why_no_list(con, [*POPULARITY_NEEDS, *models])


def songs_used_by(con: duckdb.DuckDBPyConnection, influencer_id: str, n: int = 5) -> pd.DataFrame:
    return frame(
        con,
        "select coalesce(s.title, s.song_id) as title, s.artist_name, r.delta "
        "from main.reels as r "
        "inner join main.songs as s on s.song_id = r.song_id "
        "where r.influencer_id = ? order by r.delta desc nulls last, s.song_id limit ?",
        [influencer_id, n],
    )
