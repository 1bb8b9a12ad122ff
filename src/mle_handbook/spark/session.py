"""The one way notebooks get a Spark session: embedded on a laptop, on a cluster, or over Spark Connect.

``get_spark()`` reads the environment:

- ``SPARK_REMOTE`` set (``sc://host:port``): a Spark Connect session to that server. The docs build
  starts one server (:class:`mle_handbook.spark.server.ConnectServer`) and every notebook kernel
  reaches it this way, so the build pays Spark's start-up once.
- ``SPARK_MASTER`` set (``spark://host:7077``, ``yarn``, ``k8s://...``): a classic session whose
  driver runs here and whose executors run on that cluster manager.
- neither: an embedded ``local[*]`` session sized for a laptop (:data:`LOCAL_CONF`, quiet logs).

Classic sessions run on the Java found by :func:`mle_handbook.spark.java.find_java`; a missing Java
is reported as :class:`JavaNotFound`, with what to install, before Spark is started.

Every session runs with the session time zone UTC (calendar days and months of timestamps do not
depend on the reader's clock) and with CSV column pruning off, so that a malformed line dropped by
``mode=DROPMALFORMED`` stays dropped whichever columns a query reads.

Notebooks use only what works the same in classic Spark and over Spark Connect: DataFrames, SQL and
``pyspark.ml`` (no RDDs, no ``SparkContext``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..files import write_text_atomic
from .java import JavaNotFound, cache_folder, find_java

#: Settings of every session, whichever way it is made (all runtime SQL settings, so that they can
#: also be set on a Spark Connect session).
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.csv.parser.columnPruning.enabled": "false",
    # The default (200) is for clusters; a laptop's data fits a few tasks.
    "spark.sql.shuffle.partitions": "4",
    # Whole file locations in query plans (the default cuts them at 100 characters, so how much
    # of a path shows would depend on the folder the notebook runs in).
    "spark.sql.maxMetadataStringLength": "1000",
}

#: JVM options for every driver the handbook starts itself (embedded sessions and the build's
#: Spark Connect server). The notebooks run short jobs on small data, where the optimising JIT
#: compiler (C2) costs more than it earns: on 2 cores, stopping at C1 took the two Spark notebooks
#: from 51 s and 55 s to 31 s and 35 s (see `make bench`); the serial collector keeps the JVM's
#: footprint small. Heap free ratios (``-XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30``) were
#: tried and dropped: no lower peak on Read the Docs, and slower (figures in the commit that
#: dropped them). Long-running cluster drivers are not ours to tune.
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

#: Extra settings of the embedded local session (static ones: they must be set before start-up).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}

_LOG4J = """\
# Written by mle_handbook.spark: Spark's own messages at {level} and above, on stderr only.
rootLogger.level = {level}
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n%ex
logger.parquet.name = org.apache.parquet.CorruptStatistics
logger.parquet.level = error
# PySpark's driver (PythonGatewayServer) starts logging like a shell: without a level of its own
# here, Spark announces on stderr that it changes the level to WARN.
logger.pyspark.name = org.apache.spark.api.python.PythonGatewayServer
logger.pyspark.level = {level}
"""


def log4j_config(level: str = "error", directory: Path | None = None) -> Path:
    """A log4j2 configuration file for Spark's JVM that logs at ``level`` and above to stderr."""
    path = (directory or cache_folder()) / f"log4j2-{level}.properties"
    text = _LOG4J.format(level=level)
    if not path.exists() or path.read_text() != text:
        write_text_atomic(path, text)
    return path


def spark_mode(environ: dict[str, str] | None = None) -> str:
    """``"connect"``, ``"cluster"`` or ``"local"``: what ``get_spark`` will do in this environment."""
    environ = os.environ if environ is None else environ
    if environ.get("SPARK_REMOTE"):
        return "connect"
    if environ.get("SPARK_MASTER"):
        return "cluster"
    return "local"


def get_spark(app_name: str = "mle-handbook"):
    """A SparkSession for this environment (see the module docstring); reuses a running one."""
    from pyspark.sql import SparkSession

    mode = spark_mode()
    if mode == "connect":
        spark = SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).appName(app_name)
        spark = spark.getOrCreate()
    else:
        try:  # point Spark's launcher at a usable Java, or say what to install
            runtime = find_java()
        except JavaNotFound as exc:
            raise JavaNotFound(str(exc)) from None  # without the traceback of the search
        os.environ.update(runtime.environ())
        builder = SparkSession.builder.appName(app_name)
        if mode == "cluster":
            builder = builder.master(os.environ["SPARK_MASTER"])
        else:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # Python UDFs run in worker processes started with this interpreter (the default,
            # `python3` on PATH, may be one without PySpark).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            options = f"{JVM_OPTIONS} -Dlog4j2.configurationFile=file:{log4j_config('error')}"
            builder = builder.master("local[*]").config(map=LOCAL_CONF)
            builder = builder.config("spark.driver.extraJavaOptions", options)
        spark = builder.config(map=SESSION_CONF).getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    return spark
