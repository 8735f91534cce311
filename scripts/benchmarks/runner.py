"""`make bench`: run every stage at every size, each in its own process, and write the results.

    python scripts/bench.py --sizes 100k,1m,10m --out bench/

Per stage: wall seconds (perf_counter around the process) and peak memory, the larger of the
process tree's summed PSS (sampled every 0.5 s with psutil: forked scoring workers count
together, the pages they share with the parent once, not once per process as summed RSS
would) and the largest single process's peak RSS (wait4's ru_maxrss, exact). Sizes run
separately merge into the same results (``bench/results.json`` keeps every size's latest run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from scripts.benchmarks import report
from scripts.benchmarks.measure import measure
from scripts.benchmarks.profiles import slowest_profile, summarise_stacks
from scripts.benchmarks.targets import RUN_STAGES

REPO = Path(__file__).resolve().parent.parent.parent
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
# Run whatever --stages says: the machine's speed now (calibrate), and what every other stage
# reads (generate, load, dbt_build).
ALWAYS = ("calibrate", "generate", "load", "dbt_build")
PEER_STAGES = (
    "surprise:svd",
    "surprise:knnwithmeans",
    "surprise:knnbaseline",
    "implicit:cosine",
    "implicit:als",
    "report_dense",
)


def parse_size(text: str) -> tuple[str, int]:
    """'100k' -> ('100k', 100000); plain numbers and k/m suffixes are accepted."""
    label = text.strip().lower()
    if label in SIZES:
        return label, SIZES[label]
    scale = {"k": 1_000, "m": 1_000_000}.get(label[-1:], 1)
    digits = label[:-1] if scale > 1 else label
    try:
        rows = int(float(digits) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 100k, 1m, 10m)") from None
    if rows < 1_000:
        raise argparse.ArgumentTypeError(f"size too small: {text!r}")
    return label, rows


@dataclass
class Measured:
    stage: str
    status: str  # ok | failed | timeout | skipped
    wall_s: float
    peak_mb: float
    detail: dict[str, Any]

    def row(self, size: str) -> dict[str, Any]:
        # The stage's own figures first: its "peak_mb" (that process alone) must not replace
        # the measured one (the whole process tree).
        return {
            **self.detail,
            "size": size,
            "stage": self.stage,
            "status": self.status,
            "wall_s": round(self.wall_s, 3),
            "peak_mb": round(self.peak_mb, 1),
        }


def run_stage(
    stage: str, size_dir: Path, rows: int, timeout: float, profile: Path | None = None
) -> Measured:
    result = size_dir / "stages" / (stage.replace(":", "-") + ".json")
    result.parent.mkdir(parents=True, exist_ok=True)
    result.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "scripts.benchmarks.stages", stage, "--dir", str(size_dir)]
    cmd += ["--rows", str(rows), "--result", str(result)]
    if profile:
        cmd += ["--profile", str(profile)]
    log = size_dir / "logs" / (stage.replace(":", "-") + ".log")
    spy_out = size_dir / "profiles" / "scoring.pyspy" if stage == "scoring" else None
    if spy_out:
        spy_out.parent.mkdir(parents=True, exist_ok=True)
        spy_out.unlink(missing_ok=True)
    code, wall, peak = measure(cmd, log, timeout, spy_out, cwd=REPO)
    if spy_out and spy_out.exists():
        (size_dir / "profiles" / "scoring.txt").write_text(summarise_stacks(spy_out))
    if code is None:
        # A killed DuckDB leaves its spill files behind (tens of GB at 10M): free the disk.
        for spill in size_dir.glob("*.duckdb*.tmp"):
            shutil.rmtree(spill, ignore_errors=True)
        return Measured(stage, "timeout", wall, peak, {"error": f"killed after {timeout:.0f} s"})
    if code != 0 or not result.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        return Measured(stage, "failed", wall, peak, {"error": f"exit {code}: {tail[0][:300]}"})
    detail = json.loads(result.read_text())
    status = "skipped" if "skipped" in detail else "ok"
    return Measured(stage, status, wall, peak, detail)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in (
        "duckdb",
        "dbt-core",
        "numpy",
        "scipy",
        "scikit-learn",
        "scikit-surprise",
        "implicit",
    ):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "absent"
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def commit() -> str:
    """The code measured: HEAD, marked when the tree has uncommitted changes outside bench/
    (the results the run itself is writing made every size after the first "modified")."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" (modified)" if dirty else "")


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# From this size on, the separate model stages are run only for the models the targets
# name: every model's fit, evaluation and serving seconds come from the run's own scoring
# stage (scores.model_runs), and each separate stage repeats a serve for every influencer.
TARGET_MODELS_ONLY_FROM = 10_000_000
TARGET_MODELS = ("biased_mf", "er_biased_mf", "item_knn")


def model_methods(rows: int) -> list[str]:
    from models_py.scoring.registry import MODELS

    names = [spec.method for spec in MODELS]
    return [m for m in names if rows < TARGET_MODELS_ONLY_FROM or m in TARGET_MODELS]


def bench_size(
    label: str,
    rows: int,
    data_dir: Path,
    timeout: float,
    echo: Any,
    only: list[str],
    save: Any = lambda run: None,
) -> dict[str, Any]:
    """Every stage of one size; ``save(run)`` after each, so a stopped run keeps its figures."""
    size_dir = (data_dir / label).resolve()
    size_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    run: dict[str, Any] = {
        "size": label,
        "rows": rows,
        "started": f"{started:%Y-%m-%d %H:%M} UTC",
        "load_start": load_average(),
        "commit": commit(),
        "command": f"python scripts/bench.py --sizes {label}"
        + (f" --stages '{','.join(only)}'" if only != ["*"] else "")
        + (f" --timeout {timeout:.0f}" if timeout != 3600 else ""),
        "stages": [],
    }
    stages = ["calibrate", "generate", *RUN_STAGES, "on_demand"]
    stages.insert(stages.index("dbt_build") + 1, "dbt_bare")  # replays the build just made
    if rows == 100_000:
        stages.append("e2e")  # the `make run` target: the default dataset, one process
    stages += [f"model:{m}" for m in model_methods(rows)] + list(PEER_STAGES)
    stages = [s for s in stages if s in ALWAYS or any(fnmatch(s, p) for p in only)]
    (size_dir / "warehouse.duckdb").unlink(missing_ok=True)  # stages read this run's, not older
    no_split = no_scores = False
    for stage in stages:
        if no_split and stage not in ("generate", "load", "dbt_build"):
            m = Measured(stage, "skipped", 0.0, 0.0, {"skipped": "load or dbt build failed"})
        elif no_scores and stage in ("score_marts", "publish", "on_demand"):
            m = Measured(stage, "skipped", 0.0, 0.0, {"skipped": "scoring did not finish"})
        else:
            profile = size_dir / "profiles" / f"{stage.replace(':', '-')}.txt"
            m = run_stage(stage, size_dir, rows, timeout, profile if "model:" in stage else None)
        # Without the split nothing else can run; without scores the models still can.
        if m.status in ("failed", "timeout") and stage in ("generate", "load", "dbt_build"):
            no_split = True
        no_scores |= stage == "scoring" and m.status != "ok"
        run["stages"].append(m.row(label))
        save(run)
        echo(f"  {label:>5} {stage:<24} {m.status:<8} {m.wall_s:8.1f} s {m.peak_mb:9.0f} MB")
    run["load_end"] = load_average()
    run["finished"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    run["profile"] = slowest_profile(run, size_dir)
    return run


@contextlib.contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold ``lock`` while benching: a second bench on the same data would delete the first's
    warehouse and interleave its stages (it happened once), so it stops with a message."""
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(
                f"another bench is running on {lock.parent} (it holds {lock}): "
                "wait for it to finish or stop it"
            ) from None
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m,10m", help="e.g. 100k or 100k,1m,10m")
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument(
        "--data", type=Path, default=REPO / "bench" / "data", help="generated data (gitignored)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per stage")
    parser.add_argument("--note", default="", help="a line recorded with this run")
    parser.add_argument(
        "--stages",
        default="*",
        help="comma-separated patterns of stages to run besides generate, load and dbt_build "
        "(e.g. 'scoring,model:item_knn,implicit:*'); default all",
    )
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite results.md/.csv from results.json"
    )
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / "results.json"
    results = json.loads(store.read_text()) if store.exists() else {"runs": {}}
    if args.render_only:
        report.write(results, args.out)
        return 0
    results["machine"] = machine()
    with exclusive(args.data / ".bench.lock"):
        for label, rows in sizes:
            print(f"size {label}: {rows:,} rows (load {load_average()})", flush=True)
            only = [p.strip() for p in args.stages.split(",") if p.strip()]

            def save(run: dict[str, Any], label: str = label) -> None:
                results["runs"][label] = run | {"note": args.note}
                store.write_text(json.dumps(results, indent=1, default=str))

            run = bench_size(
                label, rows, args.data, args.timeout, lambda s: print(s, flush=True), only, save
            )
            save(run)
            report.write(results, args.out)
    print(f"results: {args.out / 'results.md'}, {args.out / 'results.csv'}")
    return 0
