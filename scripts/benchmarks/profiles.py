"""py-spy's samples of a stage as a table, and the profile the results show for a size."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _frame(text: str) -> str:
    """'top_n (models_py/recommenders/base.py:96)' -> 'top_n (base.py)': lines merged."""
    name, _, where = text.rpartition(" (")
    if not name:
        return text
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0].split('/')[-1]})"


SHARED_SHARE = 0.9


def summarise_stacks(raw: Path, top: int = 25) -> str:
    """py-spy's collapsed stacks as a table: share of samples in each function, inclusive
    (anywhere on the stack) and self (the innermost frame)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";") if not f.startswith("process ")]
        for f in set(frames):
            inclusive[f] = inclusive.get(f, 0) + n
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + n
    if not total:
        return ""
    lines = [
        f"{total:,} samples (20/s, all processes of the stage)",
        "",
        f"inclusive (frames on {SHARED_SHARE:.0%} of the stacks or more left out):",
    ]
    # Frames on (nearly) every stack say nothing: the entry point, the worker pool's
    # plumbing (absent only from the samples of the parent waiting for its workers).
    shared = [f for f, n in inclusive.items() if n >= SHARED_SHARE * total]
    for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[: top + len(shared)]:
        if f in shared:
            continue
        lines.append(f"{100 * n / total:6.1f}%  {f}")
    lines += ["", "self:"]
    for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * n / total:6.1f}%  {f}")
    return "\n".join(lines)


def slowest_profile(run: dict[str, Any], size_dir: Path) -> dict[str, Any] | None:
    """The profile of the slowest profiled stage of this size: scoring (py-spy, all its
    worker processes) or a model stage (pyinstrument)."""
    profiled = [
        s
        for s in run["stages"]
        if (s["stage"].startswith("model:") and s["status"] == "ok") or s["stage"] == "scoring"
    ]
    for stage in sorted(profiled, key=lambda s: -s["wall_s"]):
        path = size_dir / "profiles" / f"{stage['stage'].replace(':', '-')}.txt"
        if path.exists() and path.read_text().strip():
            tool = "py-spy" if stage["stage"] == "scoring" else "pyinstrument"
            return {
                "stage": stage["stage"],
                "status": stage["status"],
                "wall_s": stage["wall_s"],
                "tool": tool,
                "text": path.read_text(),
            }
    return None
