"""A standalone Spark master and one worker on 127.0.0.1, for the tests of cluster mode.

What ``start-master.sh`` and ``start-worker.sh`` would do (pip's PySpark does not ship those
scripts), on the package's :class:`~mle_handbook.spark.server.DaemonSet`, so that the tests run
the notebooks' code on a real cluster through ``SPARK_MASTER``.
"""

from __future__ import annotations

import json
import urllib.request

from mle_handbook.spark.server import DaemonSet, free_port, port_open, spark_home
from mle_handbook.spark.session import log4j_config


class StandaloneCluster(DaemonSet):
    """A standalone Spark master and one worker on 127.0.0.1, for tests of cluster mode."""

    prefix = "mle-handbook-cluster-"

    def __init__(
        self, *, cores: int = 2, memory: str = "2g", startup_timeout: float = 180.0
    ) -> None:
        super().__init__()
        self.cores = cores
        self.memory = memory
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.webui_port: int | None = None

    @property
    def master_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the standalone cluster has not been started")
        return f"spark://127.0.0.1:{self.port}"

    def state(self) -> dict:
        """The master's view of the cluster (workers, applications), from its web UI's JSON."""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.webui_port}/json/", timeout=2
            ) as r:
                return json.load(r)
        except (OSError, ValueError):
            return {}

    def alive_workers(self) -> int:
        """Workers the master reports ALIVE."""
        return sum(w.get("state") == "ALIVE" for w in self.state().get("workers", []))

    def start(self) -> StandaloneCluster:
        """Start the master, then the worker; returns once the worker has registered."""
        if self.running:
            return self
        env = self._prepare()
        env["SPARK_DAEMON_JAVA_OPTS"] = f"-Dlog4j2.configurationFile=file:{log4j_config('warn')}"
        spark_class = str(spark_home() / "bin" / "spark-class")
        self.port, self.webui_port = free_port(), free_port()
        try:
            master = self._launch(
                "Spark master",
                [
                    spark_class,
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--webui-port",
                    str(self.webui_port),
                ],
                env,
            )
            master.wait_until(
                lambda: port_open(self.port) and port_open(self.webui_port),
                self.startup_timeout,
                f"listen on ports {self.port} and {self.webui_port}",
            )
            worker = self._launch(
                "Spark worker",
                [
                    spark_class,
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(free_port()),
                    "--webui-port",
                    str(free_port()),
                    "--cores",
                    str(self.cores),
                    "--memory",
                    self.memory,
                    "--work-dir",
                    str(self.directory / "work"),
                    self.master_url,
                ],
                env,
            )
            worker.wait_until(
                lambda: self.alive_workers() >= 1, self.startup_timeout, "register with the master"
            )
        except BaseException:
            self.stop()
            raise
        return self
