"""The short end-of-run summary: where every row went, what the warehouse holds."""

from __future__ import annotations

from pathlib import Path

from models_py import warehouse


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


def render(path: Path) -> str:
    read, clean, quarantined, rules = rows_by_rule(path)
    lines = [
        f"Rows in: {read:,}   clean: {clean:,}   quarantined: {quarantined:,}",
        *(f"  quarantined by {rule}: {n:,}" for rule, n in rules),
        "Tables: " + ", ".join(f"{name} {n:,}" for name, n in table_counts(path)),
        "Influencers by tier: " + ", ".join(f"{t} {n:,}" for t, n in tiers(path)),
        f"Warehouse: {path}",
    ]
    return "\n".join(lines)
