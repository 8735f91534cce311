"""One Spark session per test module (a process holds one SparkContext at a time, so modules
never share or overlap theirs), its JVM stopped by PID and checked gone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def spark_run(run_dir: Path) -> Iterator[object]:
    from models_py.spark.session import _alive, start_session, stop_session

    run = start_session(run_dir)
    run.spark.sparkContext.setLogLevel("ERROR")
    try:
        yield run
    finally:
        stop_session(run)
    assert not _alive(run.jvm_pid), "the session's JVM outlived stop_session"
