"""The short end-of-run summary: where every row went, what the warehouse holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from models_py.warehouse import file as warehouse


def rows_by_rule(path: Path) -> tuple[int, int, int, list[tuple[str, int]]]:
    """(rows read, clean, quarantined, [(rule, rows)]) over all files."""
    with warehouse.connect(path, read_only=True) as con:
        read, clean, quarantined = con.execute(
            "select sum(rows_read), sum(rows_clean), sum(rows_quarantined) "
            "from main.source_file_audit"
        ).fetchall()[0]
        rules = con.execute(
            "select rejection_rule, count(*) from main.quarantined_reels "
            "group by rejection_rule order by count(*) desc, rejection_rule"
        ).fetchall()
    return int(read), int(clean), int(quarantined), [(r, int(n)) for r, n in rules]


def table_counts(path: Path) -> list[tuple[str, int]]:
    with warehouse.connect(path, read_only=True) as con:
        names = ["reels", "influencers", "songs", "quarantined_reels"]
        return [(n, con.execute(f"select count(*) from main.{n}").fetchall()[0][0]) for n in names]


def tiers(path: Path) -> list[tuple[str, int]]:
    with warehouse.connect(path, read_only=True) as con:
        return con.execute(
            "select tier, count(*) from main.influencers group by tier order by min(followers)"
        ).fetchall()


def metrics_table(path: Path) -> str:
    """One line per method: rating accuracy and ranking quality at k, best first."""
    from models_py.report.data import model_comparison  # the report's table, the same query

    with warehouse.connect(path, read_only=True) as con:
        methods = model_comparison(con)
    if methods.empty:
        return ""

    def cell(value: float | None) -> str:
        return f"{value:10.4f}" if pd.notna(value) else f"{'—':>10}"

    columns = ("rmse", "map_used", "map_lifted", "ndcg_lifted", "coverage")
    header = f"{'method':<18}{'family':<12}" + "".join(f"{c:>12}" for c in columns)
    lines = ["Metrics at k = 10 on the held-out reels:", header]
    for row in methods.itertuples(index=False):
        cells = "".join(f"  {cell(getattr(row, c))}" for c in columns)
        lines.append(f"{row.method:<18}{row.family:<12}{cells}")
    return "\n".join(lines)


def cold_start_table(path: Path) -> str:
    """Cold start: recall and MAP at k per scenario, best MAP (used) first in each."""
    with warehouse.connect(path, read_only=True) as con:
        rows = con.execute(
            """
            select
                scenario,
                method,
                max(value) filter (where metric = 'recall' and relevance = 'used'),
                max(value) filter (where metric = 'map' and relevance = 'used'),
                max(value) filter (where metric = 'recall' and relevance = 'lifted'),
                max(value) filter (where metric = 'map' and relevance = 'lifted'),
                max(users_evaluated) filter (where metric = 'map' and relevance = 'used')
            from main.model_metrics
            where scenario <> 'warm'
            group by scenario, method
            order by scenario desc, 4 desc nulls last, method
            """
        ).fetchall()
    if not rows:
        return ""
    columns = ("recall_used", "map_used", "recall_lifted", "map_lifted", "users")
    lines = [
        "Cold start at k = 10 (cold_song: only held-out songs ranked; "
        "cold_influencer: no reels seen):",
        f"{'scenario':<17}{'method':<21}" + "".join(f"{c:>14}" for c in columns),
    ]
    for scenario, method, *values in rows:
        *metrics, users = values
        cells = "".join(f"{v:14.4f}" if v is not None else f"{'—':>14}" for v in metrics)
        lines.append(f"{scenario:<17}{method:<21}{cells}{users or 0:>14,}")
    return "\n".join(lines)


def without_lists(path: Path) -> str:
    """'No lists from: m (why), …' for the methods this build could not fit or rank with."""
    from models_py.report.data import methods_without_lists  # the report says the same

    with warehouse.connect(path, read_only=True) as con:
        absent = methods_without_lists(con)
    by_reason: dict[str, list[str]] = {}
    for method, why in absent.items():
        by_reason.setdefault(why, []).append(method)
    said = "; ".join(f"{', '.join(methods)} ({why})" for why, methods in by_reason.items())
    return f"No lists from: {said}" if said else ""


def render(path: Path) -> str:
    read, clean, quarantined, rules = rows_by_rule(path)
    lines = [
        f"Rows in: {read:,}   clean: {clean:,}   quarantined: {quarantined:,}",
        *(f"  quarantined by {rule}: {n:,}" for rule, n in rules),
        "Tables: " + ", ".join(f"{name} {n:,}" for name, n in table_counts(path)),
        "Influencers by tier: " + ", ".join(f"{t} {n:,}" for t, n in tiers(path)),
        metrics_table(path),
        without_lists(path),
        cold_start_table(path),
        f"Warehouse: {path}",
    ]
    return "\n".join(line for line in lines if line)
