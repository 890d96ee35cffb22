"""A SparkSession for a build: ``local[*]`` by default, a cluster master URL, or Spark Connect (``sc://host``).

Every session is set up the same way, because the answers depend on it: times are read in UTC (the log's times
carry no zone, as in DuckDB), Arrow moves frames between the JVM and Python, and the Python workers run this
interpreter (so a local session sees the same ``uig_core`` and models). On a cluster, ``uig`` must be installed
on the executors (``pip install uig`` in their image, or ``spark-submit --py-files``); see the README's
"Running on a Spark cluster".
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from typing import TYPE_CHECKING

from uig_core.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DEFAULT_MASTER", "java_problem", "jvm_cpu_seconds", "spark_session"]

log = logging.getLogger(__name__)

#: The master of a build that names none: every core of this machine.
DEFAULT_MASTER = "local[*]"

_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def java_problem() -> str | None:
    """Why a local Spark cannot start here (no Java), or None when a ``java`` is found."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return None
    if shutil.which("java"):
        return None
    return (
        "Spark needs Java 17 or later and none was found (no `java` on PATH, JAVA_HOME unset). Install it "
        "(`make java`, or `apt-get install openjdk-17-jre-headless`) or use a cluster with --spark-master sc://HOST."
    )


def spark_session(master: str | None = None, *, shuffle_partitions: int | None = None) -> SparkSession:
    """The SparkSession of ``master`` (default :data:`DEFAULT_MASTER`), created or reused.

    Args:
        master: ``local[N]`` / ``local[*]``, a cluster master (``spark://host:7077``, ``yarn``, ``k8s://…``), or
            a Spark Connect URL ``sc://host:15002`` (needs ``pip install "pyspark[connect]"``).
        shuffle_partitions: ``spark.sql.shuffle.partitions`` (default: 4 per local core, Spark's own on a cluster).

    Raises:
        ConfigError: pyspark is not installed, Java is missing for a local or classic master, or Spark Connect's
            client libraries are missing.
    """
    master = master or DEFAULT_MASTER
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise ConfigError(
            f"--engine spark needs pyspark ({err}). Install the project's dependencies (`make .venv`, or "
            "`pip install 'pyspark>=4,<5'`)."
        ) from err
    if master.startswith("sc://"):
        return _connect(SparkSession, master)
    if master.startswith("local") and (problem := java_problem()):
        raise ConfigError(problem)
    # pyspark 4.3 warns that pandas 3 is not "fully supported"; the equality tests are what we rely on
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("uig-build")
    conf = dict(_CONF)
    if shuffle_partitions is None and master.startswith("local"):
        shuffle_partitions = 4 * _local_cores(master)
    if shuffle_partitions is not None:
        conf["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    log.info("Spark %s session on %s", spark.version, master)
    return spark


def _connect(builder_cls: type, url: str) -> SparkSession:
    """A Spark Connect session (the cluster runs everything; this process is a thin client)."""
    try:
        spark = builder_cls.builder.remote(url).getOrCreate()
    except ImportError as err:
        raise ConfigError(
            f"Spark Connect ({url}) needs its client libraries ({err}). Install `pip install 'pyspark[connect]'`."
        ) from err
    for key, value in _CONF.items():
        if not key.startswith("spark.ui"):
            spark.conf.set(key, value)
    log.info("Spark Connect session on %s", url)
    return spark


def _local_cores(master: str) -> int:
    """The number of cores of a ``local[N]`` / ``local[*]`` / ``local`` master."""
    inside = master.partition("[")[2].rstrip("]").split(",")[0]
    if inside in ("", "*"):
        return os.cpu_count() or 1 if inside == "*" else 1
    try:
        return max(int(inside), 1)
    except ValueError as err:
        raise ConfigError(f"--spark-master {master!r} is not local[N], local[*] or a cluster URL.") from err


def jvm_cpu_seconds(spark: SparkSession) -> float | None:
    """CPU seconds (user + sys) the local JVM of ``spark`` has used so far; None on a cluster or Spark Connect.

    The JVM is a child this process never waits for, so ``time`` does not count it: benchmarks add this.
    """
    try:
        pid = spark.sparkContext._gateway.proc.pid  # noqa: SLF001 - pyspark keeps the launched JVM there
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext; its error class varies by version
        return None
