"""A local SparkSession with the settings ReelRec needs, and a stop that leaves no JVM behind.

Every run gets its own warehouse folder and Derby home: two sessions sharing one Derby directory
fail to start their metastore. The UI is off and shuffles use few partitions, because the default
200 partitions cost more than they save on a few cores.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models_py.errors import ReelRecError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
SHUFFLE_PARTITIONS = 4
# In local mode the driver JVM runs every task: Spark's 1 GB default ran out of heap building
# model_metrics at 1M rows. Read when the JVM starts.
DRIVER_MEMORY = os.environ.get("REELREC_SPARK_DRIVER_MEMORY", "4g")


@dataclass(frozen=True)
class SparkRun:
    """A started session, the PID of its driver JVM, and the folders it writes to."""

    spark: SparkSession
    jvm_pid: int
    warehouse_dir: Path
    derby_home: Path


def session_conf(warehouse_dir: Path, derby_home: Path) -> dict[str, str]:
    """The Spark settings of a ReelRec run whose tables live under `warehouse_dir`."""
    return {
        "spark.ui.enabled": "false",
        "spark.driver.memory": DRIVER_MEMORY,
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.sql.warehouse.dir": str(warehouse_dir.resolve()),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={derby_home.resolve()}",
        "spark.sql.session.timeZone": "UTC",
        # dbt-spark sets it too; the same here so loads and models agree.
        "spark.sql.ansi.enabled": "false",
        # The run prints its own stages; Spark's stage bars would interleave with them.
        "spark.ui.showConsoleProgress": "false",
    }


def start_session(
    run_dir: Path, master: str = DEFAULT_MASTER, app_name: str = "reelrec"
) -> SparkRun:
    """A SparkSession with Hive support whose warehouse and Derby metastore live under
    `run_dir` (`run_dir/spark-warehouse`, `run_dir/derby`)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ReelRecError(
            "the Spark engine needs the spark extra: pip install 'reelrec[spark]'"
        ) from exc
    warehouse_dir, derby_home = run_dir / "spark-warehouse", run_dir / "derby"
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    derby_home.mkdir(parents=True, exist_ok=True)
    # Read by the JVM at launch: bind to loopback, never look up the host's address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python UDF workers (the Spark models' top-n) run this interpreter, with its packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in session_conf(warehouse_dir, derby_home).items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    # MLlib's ALS cuts its lineage every checkpointInterval sweeps only with a checkpoint folder;
    # without one, 20 sweeps already overflow the driver's stack.
    spark.sparkContext.setCheckpointDir(str((run_dir / "checkpoints").resolve()))
    # Warnings such as "no partition defined for window" are expected here (whole rankings).
    spark.sparkContext.setLogLevel("ERROR")
    pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    return SparkRun(spark, pid, warehouse_dir, derby_home)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_session(run: SparkRun, grace_seconds: float = 10.0) -> None:
    """Stop the session, then make sure its JVM is gone: SIGTERM, then SIGKILL after a grace."""
    try:
        run.spark.stop()
    finally:
        _kill_jvm(run.jvm_pid, grace_seconds)


def _kill_jvm(pid: int, grace_seconds: float) -> None:
    # The gateway JVM may outlive spark.stop() (it belongs to this Python process).
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is not None:
        gateway.shutdown()
        SparkContext._gateway = None
        SparkContext._jvm = None
    if not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    """Collect the JVM's exit status if it is our child, so it leaves no zombie behind."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
