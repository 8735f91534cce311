"""Run Python in a child process whose address space is capped, so a test of a memory bound
fails with a MemoryError instead of exhausting the machine when the bound regresses."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Defined in the child: cap(headroom) limits it to what it has mapped so far plus headroom.
# Measured in the child, after its imports, so the cap does not depend on how many threads
# or arenas the machine's libraries reserve up front.
_CAP = """
import resource

def cap(headroom):
    with open("/proc/self/status") as status:
        peak_kb = int(status.read().split("VmPeak:")[1].split()[0])
    limit = peak_kb * 1024 + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
"""


def run_capped(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` (which calls cap(headroom) once its imports are done) in a fresh Python."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the address-space cap reads /proc/self/status")
    return subprocess.run(
        [sys.executable, "-c", _CAP + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
