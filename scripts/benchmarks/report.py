"""bench/results.md (tables for people) and bench/results.csv (one row per size and stage)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

SIZE_ORDER = ("100k", "1m", "10m")
RUN_STAGES = ("load", "dbt_build", "scoring", "score_marts", "publish")
MF_METHODS = ("biased_mf", "er_biased_mf")
FAITHFUL = ("model:report_user_cf", "model:report_item_cf", "model:report_svd", "model:item_knn")
PROFILE_LINES = 70


def _sizes(results: dict[str, Any]) -> list[str]:
    runs = results["runs"]
    return sorted(runs, key=lambda s: (SIZE_ORDER.index(s) if s in SIZE_ORDER else 99, s))


def _stages(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stage"]: s for s in run["stages"]}


def _ok(stage: dict[str, Any] | None) -> bool:
    return stage is not None and stage["status"] == "ok"


def _f(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _ratio(ours: float | None, peer: float | None) -> float | None:
    return ours / peer if ours is not None and peer else None


def end_to_end(run: dict[str, Any]) -> tuple[float | None, float | None, bool]:
    """(sum of the run stages' wall seconds, their largest peak MB, all of them ok)."""
    stages = _stages(run)
    parts = [stages.get(s) for s in RUN_STAGES]
    done = [p for p in parts if p is not None and p["status"] != "skipped"]
    if not done:
        return None, None, False
    return (
        sum(p["wall_s"] for p in done),
        max(p["peak_mb"] for p in done),
        all(_ok(p) for p in parts),
    )


def work_seconds(stage: dict[str, Any] | None, phases: tuple[str, ...]) -> float | None:
    if not _ok(stage):
        return None
    return sum(stage.get(f"{p}_s", 0.0) for p in phases)


def best_mf(stages: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    fitted = [stages.get(f"model:{m}") for m in MF_METHODS]
    fitted = [s for s in fitted if _ok(s)]
    return min(fitted, key=lambda s: s["rmse"]) if fitted else None


def comparisons(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Ours vs each peer on this size's run: time ratio ours/peer and the quality of both."""
    s = _stages(run)
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
            "ours_q": ours.get(key) if _ok(ours) else None,
            "peer_q": peer.get(key) if _ok(peer) else None,
            "peer_status": peer["status"] if peer else "not run",
            "peer_note": (peer or {}).get("skipped") or (peer or {}).get("error") or "",
        }
        row["ratio"] = _ratio(row["ours_s"], row["peer_s"])
        out.append(row)
    dense = s.get("report_dense")
    faithful = [s.get(f) for f in FAITHFUL]
    ours_s = (
        sum(work_seconds(f, ("fit", "recommend", "evaluate")) for f in faithful)
        if all(_ok(f) for f in faithful)
        else None
    )
    row = {
        "peer": "report_dense",
        "ours": "report_user_cf + report_item_cf + report_svd + item_knn",
        "what": "fit + recommend + evaluate",
        "metric": "RMSE (user CF)",
        "ours_s": ours_s,
        "peer_s": dense.get("total_s") if _ok(dense) else None,
        "ours_q": s["model:report_user_cf"].get("rmse")
        if _ok(s.get("model:report_user_cf"))
        else None,
        "peer_q": dense.get("rmse_user_cf") if _ok(dense) else None,
        "peer_status": dense["status"] if dense else "not run",
        "peer_note": (dense or {}).get("skipped") or (dense or {}).get("error") or "",
    }
    row["ratio"] = _ratio(row["ours_s"], row["peer_s"])
    out.append(row)
    return out


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
        e2e = _stages(small).get("e2e")
        if _ok(e2e):
            sec = e2e["wall_s"]
            rows.append(
                (
                    "`make run` end to end < 60 s",
                    "100k (default xlsx)",
                    f"{sec:.1f} s",
                    _verdict(sec < 60, f"{sec / 60:.2f}x the limit"),
                )
            )
        load = _stages(small).get("load")
        if _ok(load):
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
    for size in _sizes(results):
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
            # The issue sets implicit at 1M and 10M rows; at 100k both take about a second,
            # where process noise decides the ratio (the peers table still shows it).
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


def _table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _align(n_text: int, n_num: int) -> list[str]:
    return ["---"] * n_text + ["---:"] * n_num


def scoring_models(scoring: dict[str, Any] | None, size: str) -> list[str]:
    """The run's scoring stage model by model (scores.model_runs): fit with tuning, the
    evaluation lists, refit and lists for every influencer (serve), on two workers."""
    if not _ok(scoring) or not scoring.get("models"):
        return []
    rows = [
        [
            m["method"],
            m["family"],
            _f(m["fit_seconds"]),
            _f(m["score_seconds"]),
            _f(m["serve_seconds"]),
            _f(m["fit_seconds"] + m["score_seconds"] + m["serve_seconds"]),
        ]
        for m in sorted(
            scoring["models"],
            key=lambda m: -m["fit_seconds"] - m["score_seconds"] - m["serve_seconds"],
        )
    ]
    return [
        "",
        f"## The run's scoring stage at {size}, model by model ({scoring['wall_s']:.1f} s on "
        "two workers)",
        "",
        "fit = tuning and the fit on the training split; evaluate = the evaluation lists "
        "(sampled influencers, cold-start scenarios); serve = refit on every reel and top-10 "
        "for every influencer. Models the run left out are not listed.",
        "",
        *_table(
            ["method", "family", "fit s", "evaluate s", "serve s", "total s"], rows, _align(2, 4)
        ),
    ]


def render(results: dict[str, Any], notes: str = "") -> str:
    m = results["machine"]
    sizes = _sizes(results)
    runs = results["runs"]
    v = ", ".join(f"{k} {val}" for k, val in m["versions"].items())
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (all sizes) or `make bench SIZES=100k`: `scripts/bench.py` generates each "
        "dataset (100k = the default xlsx dataset that `make run` reads; 1m and 10m = "
        "`generate_data.py --scale` parquet), then runs every stage in its own process. Wall "
        "seconds are measured around the process (imports included); peak memory is the larger "
        "of the process tree's summed PSS (sampled every 0.5 s; pages forked workers share "
        "count once) and the largest process's peak "
        "RSS. Model and peer stages use the run's clean reels and its train/test split "
        "(`evaluation_splits`); ours use the run's tuned parameters and one thread, peers "
        "their defaults and one thread.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['os']}, "
        f"Python {m['python']}",
        f"- Packages: {v}",
        "",
        "## Runs",
        "",
    ]
    lines += _table(
        ["size", "rows", "commit", "started", "finished", "load avg at start", "at end", "note"],
        [
            [
                s,
                f"{runs[s]['rows']:,}",
                runs[s].get("commit", "—"),
                runs[s]["started"],
                runs[s].get("finished", "—"),
                runs[s]["load_start"],
                runs[s].get("load_end", "—"),
                runs[s].get("note") or "",
            ]
            for s in sizes
        ],
        _align(8, 0),
    )
    lines += ["", "## Targets", ""]
    lines += _table(
        ["target", "size", "measured", "verdict"], [list(t) for t in targets(results)], _align(4, 0)
    )
    lines += ["", "## Stages: wall seconds and peak memory", ""]
    all_stages: list[str] = []
    for s in sizes:
        for st in runs[s]["stages"]:
            if st["stage"] not in all_stages:
                all_stages.append(st["stage"])
    header = ["stage"] + [h for s in sizes for h in (f"{s} s", f"{s} peak MB")]
    body = []
    for name in all_stages:
        row = [name]
        for s in sizes:
            st = _stages(runs[s]).get(name)
            if st is None:
                row += ["—", "—"]
            elif st["status"] == "ok":
                row += [_f(st["wall_s"]), _f(st["peak_mb"], 0)]
            else:
                row += [st["status"], _f(st["peak_mb"], 0) if st["peak_mb"] else "—"]
        body.append(row)
    e2e_row = ["**run total** (load … publish)"]
    for s in sizes:
        sec, peak, complete = end_to_end(runs[s])
        mark = "" if complete else " (incomplete)"
        e2e_row += [_f(sec) + mark, _f(peak, 0)]
    body.append(e2e_row)
    lines += _table(header, body, _align(1, 2 * len(sizes)))
    for s in sizes:
        st = _stages(runs[s])
        lines += scoring_models(st.get("scoring"), s)
        lines += ["", f"## Models at {s}: one fit on the training split, top-10 for everyone", ""]
        rows = []
        for name, stage in st.items():
            if not name.startswith("model:"):
                continue
            if stage["status"] != "ok":
                rows.append([name[6:], stage["status"]] + ["—"] * 7)
                continue
            rows.append(
                [
                    name[6:],
                    "ok",
                    _f(stage.get("fit_s"), 2),
                    _f(stage.get("recommend_s"), 2),
                    _f(stage.get("evaluate_s"), 2),
                    _f(stage["peak_mb"], 0),
                    _f(stage.get("rmse"), 4),
                    _f(stage.get("map10"), 4),
                    _f(stage.get("fit_with_tuning_s"), 1),
                ]
            )
        lines += _table(
            [
                "method",
                "status",
                "fit s",
                "recommend s",
                "evaluate s",
                "peak MB",
                "test RMSE",
                "MAP@10",
                "fit s in the run (incl. tuning)",
            ],
            rows,
            _align(2, 7),
        )
        lines += ["", f"### Peers at {s} (ratio = ours / peer seconds; below 1 = ours faster)", ""]
        prow = []
        for c in comparisons(runs[s]):
            prow.append(
                [
                    c["peer"],
                    c["ours"],
                    c["what"],
                    _f(c["ours_s"], 2),
                    _f(c["peer_s"], 2) if c["peer_s"] is not None else c["peer_status"],
                    _f(c["ratio"], 3),
                    c["metric"],
                    _f(c["ours_q"], 4),
                    _f(c["peer_q"], 4),
                    c["peer_note"],
                ]
            )
        lines += _table(
            [
                "peer",
                "ours",
                "timed",
                "ours s",
                "peer s",
                "ratio",
                "metric",
                "ours",
                "peer",
                "note",
            ],
            prow,
            _align(3, 3) + ["---", "---:", "---:", "---"],
        )
        dense = st.get("report_dense")
        if _ok(dense):
            parts = ", ".join(
                f"{k[:-2]} {dense[k]:.1f} s"
                for k in dense
                if k.endswith("_s") and k not in ("total_s", "wall_s")
            )
            lines += [
                "",
                f"The report's approach, dense, by part: {parts}; peak {dense['peak_mb']:,.0f} MB.",
            ]
    biggest = next((s for s in reversed(sizes) if runs[s].get("profile")), None)
    if biggest:
        prof = runs[biggest]["profile"]
        text = prof["text"].strip().splitlines()[:PROFILE_LINES]
        lines += [
            "",
            f"## Profile: slowest profiled stage at {biggest} ({prof['stage']}, "
            f"{prof.get('status', 'ok')} after {prof['wall_s']:.1f} s, "
            f"{prof.get('tool', 'pyinstrument')})",
            "",
            "```",
            *text,
            "```",
        ]
    if notes.strip():
        lines += ["", notes.strip()]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out: Path) -> None:
    notes_file = out / "notes.md"
    notes = notes_file.read_text() if notes_file.exists() else ""
    (out / "results.md").write_text(render(results, notes))
    rows = [
        # A run stopped mid-size has no load_end: its rows are written all the same.
        {**st, **{k: run.get(k, "") for k in ("started", "load_start", "load_end")}}
        for size in _sizes(results)
        for run in [results["runs"][size]]
        for st in run["stages"]
    ]
    fixed = ["size", "stage", "status", "wall_s", "peak_mb"]
    extra = sorted({k for r in rows for k in r} - set(fixed))
    with (out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fixed + extra)
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in r.items()}
            )
