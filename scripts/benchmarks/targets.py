"""The issue's targets and ours-versus-peer comparisons, read from the bench results."""

from __future__ import annotations

from typing import Any

SIZE_ORDER = ("100k", "1m", "10m")
RUN_STAGES = ("load", "dbt_build", "scoring", "score_marts", "publish")
MF_METHODS = ("biased_mf", "er_biased_mf")
FAITHFUL = ("model:report_user_cf", "model:report_item_cf", "model:report_svd", "model:item_knn")


def sizes_in_order(results: dict[str, Any]) -> list[str]:
    runs = results["runs"]
    return sorted(runs, key=lambda s: (SIZE_ORDER.index(s) if s in SIZE_ORDER else 99, s))


def stages_by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stage"]: s for s in run["stages"]}


def ok_stage(stage: dict[str, Any] | None) -> bool:
    return stage is not None and stage["status"] == "ok"


def _ratio(ours: float | None, peer: float | None) -> float | None:
    return ours / peer if ours is not None and peer else None


def end_to_end(run: dict[str, Any]) -> tuple[float | None, float | None, bool]:
    """(sum of the run stages' wall seconds, their largest peak MB, all of them ok)."""
    stages = stages_by_name(run)
    parts = [stages.get(s) for s in RUN_STAGES]
    done = [p for p in parts if p is not None and p["status"] != "skipped"]
    if not done:
        return None, None, False
    return (
        sum(p["wall_s"] for p in done),
        max(p["peak_mb"] for p in done),
        all(ok_stage(p) for p in parts),
    )


def work_seconds(stage: dict[str, Any] | None, phases: tuple[str, ...]) -> float | None:
    if not ok_stage(stage):
        return None
    return sum(stage.get(f"{p}_s", 0.0) for p in phases)


def best_mf(stages: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    fitted = [stages.get(f"model:{m}") for m in MF_METHODS]
    fitted = [s for s in fitted if ok_stage(s)]
    return min(fitted, key=lambda s: s["rmse"]) if fitted else None


def comparisons(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Ours vs each peer on this size's run: time ratio ours/peer and the quality of both."""
    s = stages_by_name(run)
    out = []
    mf = best_mf(s)
    pairs = [
        ("surprise:svd", mf, ("fit",), "RMSE", "rmse"),
        ("surprise:knnwithmeans", s.get("model:item_knn"), ("fit",), "RMSE", "rmse"),
        ("surprise:knnbaseline", s.get("model:knn_baseline"), ("fit",), "RMSE", "rmse"),
        ("implicit:cosine", s.get("model:item_knn"), ("fit", "recommend"), "MAP@10", "map10"),
        ("implicit:als", mf, ("fit", "recommend"), "MAP@10", "map10"),
    ]
    for peer_name, ours, phases, metric, key in pairs:
        peer = s.get(peer_name)
        row = {
            "peer": peer_name,
            "ours": ours["stage"] if ours else "—",
            "what": " + ".join(phases),
            "metric": metric,
            "ours_s": work_seconds(ours, phases),
            "peer_s": work_seconds(peer, phases),
            "ours_q": ours.get(key) if ok_stage(ours) else None,
            "peer_q": peer.get(key) if ok_stage(peer) else None,
            "peer_status": peer["status"] if peer else "not run",
            "peer_note": (peer or {}).get("skipped") or (peer or {}).get("error") or "",
        }
        row["ratio"] = _ratio(row["ours_s"], row["peer_s"])
        out.append(row)
    dense = s.get("report_dense")
    faithful = [s.get(f) for f in FAITHFUL]
    ours_s = (
        sum(work_seconds(f, ("fit", "recommend", "evaluate")) for f in faithful)
        if all(ok_stage(f) for f in faithful)
        else None
    )
    row = {
        "peer": "report_dense",
        "ours": "report_user_cf + report_item_cf + report_svd + item_knn",
        "what": "fit + recommend + evaluate",
        "metric": "RMSE (user CF)",
        "ours_s": ours_s,
        "peer_s": dense.get("total_s") if ok_stage(dense) else None,
        "ours_q": s["model:report_user_cf"].get("rmse")
        if ok_stage(s.get("model:report_user_cf"))
        else None,
        "peer_q": dense.get("rmse_user_cf") if ok_stage(dense) else None,
        "peer_status": dense["status"] if dense else "not run",
        "peer_note": (dense or {}).get("skipped") or (dense or {}).get("error") or "",
    }
    row["ratio"] = _ratio(row["ours_s"], row["peer_s"])
    out.append(row)
    return out


# The rankers that learn from which songs were used (registry: needs USAGE_ONLY).
USAGE_RANKERS = ("artist_topics", "ease", "als", "item_knn", "item_knn_bm25")


def _best(ranking: dict[str, dict[str, Any]], methods, key: str) -> tuple[str, float] | None:
    scored = [(m, ranking[m][key]) for m in methods if key in ranking.get(m, {})]
    return max(scored, key=lambda mv: mv[1]) if scored else None


def _family(ranking: dict[str, dict[str, Any]], family: str) -> list[str]:
    return [m for m, v in ranking.items() if v["family"] == family]


def ranking_targets(size: str, run: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The ranking issue's targets, from the run's model_metrics (test reels, k = eval_k)."""
    marts = stages_by_name(run).get("score_marts")
    if not ok_stage(marts) or "ranking" not in marts:
        return []
    ranking, rows = marts["ranking"], []
    popular = _best(ranking, _family(ranking, "popularity"), "map_used")
    oracle = _best(ranking, _family(ranking, "oracle"), "map_used")
    usage = _best(ranking, USAGE_RANKERS, "map_used")
    if size == "100k" and oracle and popular:
        ratio = oracle[1] / popular[1] if popular[1] else float("inf")
        rows.append(
            (
                "oracle MAP@10 (used) >= 3x popularity's: taste planted in usage",
                size,
                f"{oracle[0]} {oracle[1]:.4f}, {popular[0]} {popular[1]:.4f} ({ratio:.1f}x)",
                _verdict(ratio >= 3, f"{ratio:.1f}x"),
            )
        )
    if size == "100k" and usage and oracle and popular:
        to_oracle = usage[1] / oracle[1] if oracle[1] else float("inf")
        to_popular = usage[1] / popular[1] if popular[1] else float("inf")
        rows.append(
            (
                "best usage ranker MAP@10 (used) >= 0.8x oracle's and >= 2x best popularity's",
                size,
                f"{usage[0]} {usage[1]:.4f}: {to_oracle:.2f}x {oracle[0]}, "
                f"{to_popular:.1f}x {popular[0]}",
                _verdict(to_oracle >= 0.8 and to_popular >= 2, "below a bound"),
            )
        )
    chosen = marts.get("default_method")
    popular_lifted = _best(ranking, _family(ranking, "popularity"), "map_lifted")
    served = ranking.get(chosen, {}).get("map_lifted")
    if served is not None and popular_lifted:
        rows.append(
            (
                "served default never worse on test than the best popularity (MAP@10 lifted)",
                size,
                f"{chosen} {served:.4f} vs {popular_lifted[0]} {popular_lifted[1]:.4f}",
                _verdict(served >= popular_lifted[1], "below popularity"),
            )
        )
    return rows


def on_demand_target(size: str, run: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """One influencer's list of a method not served, from its fitted parts, under 1 s: the
    slowest of every method's sampled influencers (methods kept without parts named)."""
    stage = stages_by_name(run).get("on_demand")
    if not ok_stage(stage) or not stage.get("methods"):
        return []
    timed = {m: v for m, v in stage["methods"].items() if "max_s" in v}
    missing = sorted(set(stage["methods"]) - set(timed))
    if not timed:
        return []
    slowest = max(timed, key=lambda m: timed[m]["max_s"])
    worst = timed[slowest]["max_s"]
    measured = f"slowest {slowest} {worst:.2f} s of {stage['influencers']} influencers x "
    measured += f"{len(timed)} methods"
    if missing:
        measured += f"; no parts: {', '.join(missing)}"
    problems = ([f"{slowest} {worst:.2f} s"] if worst >= 1 else []) + (
        [f"no parts for {', '.join(missing)}"] if missing else []
    )
    return [
        (
            "on-demand list of a method not served < 1 s per influencer",
            size,
            measured,
            _verdict(not problems, "; ".join(problems)),
        )
    ]


# The issue sets the dbt target at 10M rows; below, dbt's fixed cost (parsing, unit tests,
# one query per test) outweighs the SQL and the ratio says little.
DBT_RATIO_FROM_ROWS = 10_000_000


def dbt_overhead_target(size: str, run: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The dbt build's seconds against its model SQL run bare (the dbt_bare stage)."""
    stages = stages_by_name(run)
    build, bare = stages.get("dbt_build"), stages.get("dbt_bare")
    if run["rows"] < DBT_RATIO_FROM_ROWS or not (ok_stage(build) and ok_stage(bare)):
        return []
    ratio = build["seconds"] / bare["seconds"]
    measured = (
        f"{build['seconds']:.0f} s vs {bare['seconds']:.0f} s bare ({ratio:.2f}x); "
        f"dbt's node seconds: models {bare['dbt_models_s']:.0f}, "
        f"data tests {bare['dbt_data_tests_s']:.0f}"
    )
    verdict = _verdict(ratio <= 2, f"{ratio / 2:.2f}x over the bound")
    return [("dbt build within 2x of its bare SQL", size, measured, verdict)]


def _speed(times_faster: float) -> str:
    if times_faster >= 1:
        return f"{times_faster:.1f}x faster"
    return f"{1 / times_faster:.2f}x slower"


def _verdict(ok: bool | None, text: str) -> str:
    return "—" if ok is None else ("met" if ok else f"missed: {text}")


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, size, measured, verdict) for every target of the issue."""
    runs = results["runs"]
    rows: list[tuple[str, str, str, str]] = []
    small = runs.get("100k")
    if small:
        e2e = stages_by_name(small).get("e2e")
        if ok_stage(e2e):
            sec = e2e["wall_s"]
            rows.append(
                (
                    "`make run` end to end < 60 s",
                    "100k (default xlsx)",
                    f"{sec:.1f} s",
                    _verdict(sec < 60, f"{sec / 60:.2f}x the limit"),
                )
            )
        load = stages_by_name(small).get("load")
        if ok_stage(load):
            rate = load["rows_per_s"]
            rows.append(
                (
                    "xlsx ingestion >= 50,000 rows/s",
                    "100k (default xlsx)",
                    f"{rate:,.0f} rows/s",
                    _verdict(rate >= 50_000, f"{50_000 / rate:.2f}x too slow"),
                )
            )
    big = runs.get("10m")
    if big:
        sec, peak, complete = end_to_end(big)
        if sec is not None:
            measured = f"{sec:,.0f} s, peak {peak / 1024:.1f} GB" + (
                "" if complete else " (incomplete)"
            )
            ok = complete and sec < 600 and peak < 12 * 1024
            why = []
            if not complete:
                why.append("a stage did not finish")
            if sec >= 600:
                why.append(f"time {sec / 600:.2f}x the limit")
            if peak >= 12 * 1024:
                why.append(f"memory {peak / 12 / 1024:.2f}x the limit")
            rows.append(
                (
                    "10M rows end to end < 10 min, peak < 12 GB",
                    "10m",
                    measured,
                    _verdict(ok, ", ".join(why)),
                )
            )
    for size in sizes_in_order(results):
        rows += on_demand_target(size, runs[size])
        rows += dbt_overhead_target(size, runs[size])
        rows += ranking_targets(size, runs[size])
        for c in comparisons(runs[size]):
            if c["ratio"] is None:
                continue
            if c["peer"] == "surprise:svd":
                quality_ok = c["ours_q"] <= c["peer_q"]
                speed = 1 / c["ratio"]
                rows.append(
                    (
                        "best MF >= 5x faster than Surprise SVD (fit) at <= RMSE",
                        size,
                        f"{_speed(speed)}; RMSE {c['ours_q']:.4f} vs {c['peer_q']:.4f}",
                        _verdict(
                            speed >= 5 and quality_ok,
                            f"{_speed(speed)} (needs 5x faster)" if speed < 5 else "higher RMSE",
                        ),
                    )
                )
            # The issue sets implicit at 1M and 10M rows; at 100k both finish so fast that
            # process noise decides the ratio (the peers table still shows it).
            if c["peer"] == "implicit:cosine" and runs[size]["rows"] >= 1_000_000:
                quality_ok = c["ours_q"] >= c["peer_q"]
                rows.append(
                    (
                        "item KNN time <= 1.5x implicit Cosine at >= MAP@10",
                        size,
                        f"{c['ratio']:.2f}x its time; MAP@10 "
                        f"{c['ours_q']:.3g} vs {c['peer_q']:.3g}",
                        _verdict(
                            c["ratio"] <= 1.5 and quality_ok,
                            f"{c['ratio'] / 1.5:.2f}x over the bound"
                            if c["ratio"] > 1.5
                            else "lower MAP@10",
                        ),
                    )
                )
            if c["peer"] == "report_dense":
                speed = 1 / c["ratio"]
                rows.append(
                    (
                        ">= 20x faster than the report's approach",
                        size,
                        f"{speed:.1f}x faster",
                        _verdict(speed >= 20, f"{speed:.1f}x (needs 20x)"),
                    )
                )
    return rows
