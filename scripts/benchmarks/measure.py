"""Run one command and measure it: wall seconds, and peak memory of its whole process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# Reading PSS walks the process's page tables, so a reading costs CPU in proportion to the
# memory the stage holds: at a fixed interval the sampler takes a real share of a core from
# the largest stages on a 2-core machine (figures in bench/notes.md). So the wait grows with
# what a reading costs, keeping the sampler to SAMPLER_SHARE of a core. The largest
# process's exact peak comes from wait4 whatever the interval.
SAMPLE_SECONDS = 0.5
SAMPLER_SHARE = 0.05


def sampling_wait(reading_cpu_s: float) -> float:
    """Seconds to wait after a reading that took ``reading_cpu_s`` of CPU."""
    return max(SAMPLE_SECONDS, reading_cpu_s * (1 / SAMPLER_SHARE - 1))


def _tree_memory(pid: int) -> int:
    """Bytes the process tree holds: summed PSS (a page shared by k processes counts 1/k in
    each, so copy-on-write pages of forked workers count once)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_full_info().pss
    return total


def spy(pid: int, out: Path) -> subprocess.Popen | None:
    """py-spy sampling ``pid`` and its forked workers (where pyinstrument cannot follow), or
    None when py-spy is not installed."""
    exe = Path(sys.executable).with_name("py-spy")
    if not exe.exists():
        return None
    cmd = [str(exe), "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    cmd += ["--rate", "20", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(
    cmd: list[str],
    log: Path,
    timeout: float,
    spy_out: Path | None = None,
    cwd: Path | None = None,
) -> tuple[int | None, float, float]:
    """Run ``cmd`` in ``cwd``; (exit code or None on timeout, wall seconds, peak MB)."""
    peak = [0]
    done = threading.Event()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
        )

        def sample() -> None:
            while not done.is_set():
                cpu = time.thread_time()
                peak[0] = max(peak[0], _tree_memory(proc.pid))
                done.wait(sampling_wait(time.thread_time() - cpu))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        spying = spy(proc.pid, spy_out) if spy_out else None
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
            if spying is not None:
                try:
                    spying.wait(timeout=60)  # it writes its output once the target is gone
                except subprocess.TimeoutExpired:
                    spying.kill()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    code = None if proc.returncode == -signal.SIGKILL and wall >= timeout else proc.returncode
    return code, wall, max(peak[0] / 2**20, usage.ru_maxrss / 1024)
