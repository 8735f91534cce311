"""bench/results.md (tables for people) and bench/results.csv (one row per size and stage)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from scripts.benchmarks.targets import (
    comparisons,
    end_to_end,
    ok_stage,
    sizes_in_order,
    stages_by_name,
    targets,
)

PROFILE_LINES = 70


def _f(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _align(n_text: int, n_num: int) -> list[str]:
    return ["---"] * n_text + ["---:"] * n_num


def scoring_models(scoring: dict[str, Any] | None, size: str) -> list[str]:
    """The run's scoring stage model by model (scores.model_runs): fit with tuning, the
    evaluation lists, refit and lists for every influencer (serve), on two workers."""
    if not ok_stage(scoring) or not scoring.get("models"):
        return []
    rows = [
        [
            m["method"],
            m["family"],
            # NaN in runs recorded through pandas, None since: neither is a serving.
            m["serving"] if isinstance(m.get("serving"), str) else "judged only",
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
        "(sampled influencers, cold-start scenarios); serve = refit on every reel, its parts "
        "written, and top-10 for every influencer when served (the run's default method and "
        "the serve_methods var's; on_demand: the lists are computed per influencer when asked). "
        "Models the run left out are not listed.",
        "",
        *_table(
            ["method", "family", "lists", "fit s", "evaluate s", "serve s", "total s"],
            rows,
            _align(3, 4),
        ),
    ]


def _header(results: dict[str, Any]) -> list[str]:
    """How the bench measures, on what machine, and the table of runs."""
    m = results["machine"]
    sizes = sizes_in_order(results)
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
        [
            "size",
            "rows",
            "commit",
            "started",
            "finished",
            "load avg at start",
            "at end",
            "calibration",
            "note",
        ],
        [
            [
                s,
                f"{runs[s]['rows']:,}",
                runs[s].get("commit", "—"),
                runs[s]["started"],
                runs[s].get("finished", "—"),
                runs[s]["load_start"],
                runs[s].get("load_end", "—"),
                _calibration(runs[s]),
                runs[s].get("note") or "",
            ]
            for s in sizes
        ],
        _align(9, 0),
    )
    return lines


def _calibration(run: dict[str, Any]) -> str:
    """The calibrate stage's seconds (stages.stage_calibrate): lower is a faster machine."""
    stage = stages_by_name(run).get("calibrate")
    if not ok_stage(stage):
        return "—"
    return f"{stage['seconds']:.2f} s ({stage['numpy_s']:.2f} + {stage['duckdb_s']:.2f})"


def _stages_table(results: dict[str, Any]) -> list[str]:
    """Wall seconds and peak memory of every stage at every size, and the run's total."""
    sizes = sizes_in_order(results)
    runs = results["runs"]
    lines = ["", "## Stages: wall seconds and peak memory", ""]
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
            st = stages_by_name(runs[s]).get(name)
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
    return lines


def _models_table(st: dict[str, dict[str, Any]], s: str) -> list[str]:
    """Our models one at a time at size ``s`` (the ``model:*`` stages)."""
    lines = ["", f"## Models at {s}: one fit on the training split, top-10 for everyone", ""]
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
    return lines


def _peers_table(run: dict[str, Any], s: str) -> list[str]:
    """Ours against each peer library at size ``s``, and the report's dense approach by part."""
    lines = ["", f"### Peers at {s} (ratio = ours / peer seconds; below 1 = ours faster)", ""]
    prow = []
    for c in comparisons(run):
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
    dense = stages_by_name(run).get("report_dense")
    if ok_stage(dense):
        parts = ", ".join(
            f"{k[:-2]} {dense[k]:.1f} s"
            for k in dense
            if k.endswith("_s") and k not in ("total_s", "wall_s")
        )
        lines += [
            "",
            f"The report's approach, dense, by part: {parts}; peak {dense['peak_mb']:,.0f} MB.",
        ]
    return lines


def _profile(results: dict[str, Any]) -> list[str]:
    """The slowest profiled stage of the largest size that has a profile."""
    sizes = sizes_in_order(results)
    runs = results["runs"]
    lines: list[str] = []
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
    return lines


def render(results: dict[str, Any], notes: str = "") -> str:
    lines = _header(results)
    lines += ["", "## Targets", ""]
    lines += _table(
        ["target", "size", "measured", "verdict"], [list(t) for t in targets(results)], _align(4, 0)
    )
    lines += _stages_table(results)
    for s in sizes_in_order(results):
        st = stages_by_name(results["runs"][s])
        lines += scoring_models(st.get("scoring"), s)
        lines += _models_table(st, s)
        lines += _peers_table(results["runs"][s], s)
    lines += _profile(results)
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
        for size in sizes_in_order(results)
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
