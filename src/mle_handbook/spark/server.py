"""Spark daemons on 127.0.0.1: a Spark Connect server shared by a build, and a small standalone cluster.

:class:`ConnectServer` runs one Spark Connect server that every notebook kernel of a docs build
reaches through ``SPARK_REMOTE`` (set to its ``url``), so that Spark's start-up is paid once per
build rather than once per notebook. :class:`DaemonSet` is the plumbing for any set of Spark
daemons (the test suite's standalone cluster, in ``tests/spark/cluster.py``, uses it too).

Every daemon runs in its own session and process group (``setsid``), bound to 127.0.0.1, with its
logs, pid files and scratch space in a private temporary folder and the Java runtime found by
:func:`mle_handbook.spark.java.find_java`. ``stop()`` kills the whole process group, waits for it, is
safe to call twice, and is registered with :mod:`atexit` so that an interpreter that exits (also
after an error or Ctrl-C) takes its daemons with it; a ``kill -9`` of the interpreter cannot be
caught, and leaves them running until stopped by process group.

Stop Spark Connect clients (``spark.stop()``, or end their kernels) before the server: a client
whose server has gone retries its clean-up calls for minutes when its interpreter exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .java import find_java
from .session import JVM_OPTIONS, SESSION_CONF, log4j_config

#: Environment variables that would make a daemon (or the scripts that start it) do something
#: other than start a plain local daemon: spark-daemon.sh rsyncs from $SPARK_MASTER, and PySpark
#: switches to Spark Connect when SPARK_REMOTE is set.
_CLIENT_VARIABLES = (
    "SPARK_MASTER",
    "SPARK_REMOTE",
    "SPARK_CONNECT_MODE_ENABLED",
    "SPARK_LOCAL_REMOTE",
    "SPARK_API_MODE",
    "PYSPARK_GATEWAY_PORT",
    "PYSPARK_GATEWAY_SECRET",
    "SPARK_CONF_DIR",
)


class SparkDaemonError(RuntimeError):
    """A daemon did not start; the message ends with the tail of its log."""


def spark_home() -> Path:
    """The Spark distribution inside the installed ``pyspark`` package."""
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


class _Daemon:
    """One process group started with setsid, logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path, cwd: Path):
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # setsid: its own session and process group
            )
        self.pgid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_until(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.alive():
                raise SparkDaemonError(
                    f"{self.name} exited with status {self.process.returncode} before {what}. "
                    f"Last lines of {self.log}:\n{_tail(self.log)}"
                )
            if time.monotonic() > deadline:
                raise SparkDaemonError(
                    f"{self.name} did not {what} within {timeout:.0f} s. "
                    f"Last lines of {self.log}:\n{_tail(self.log)}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the whole group, then SIGKILL after ``timeout``; waits for the leader."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and process_group_alive(self.pgid):
                self.process.poll()  # reap the leader so that it does not linger as a zombie
                time.sleep(0.1)
            if not process_group_alive(self.pgid):
                break
        if self.process.poll() is None:
            # The group is gone but its leader has not been reaped yet (or left the group):
            # make sure it is dead and wait for it, so no Popen outlives its process.
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def process_group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` is still running (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies still count for killpg; ask /proc whether any member is more than a zombie.
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class DaemonSet:
    """Shared plumbing: a private folder, the environment, start-up and stopping."""

    prefix = "mle-handbook-spark-"

    def __init__(self) -> None:
        self.directory: Path | None = None
        self._daemons: list[_Daemon] = []
        atexit.register(self.stop)

    def _prepare(self) -> dict[str, str]:
        runtime = find_java()  # raises JavaNotFound with install advice
        self.directory = Path(tempfile.mkdtemp(prefix=self.prefix))
        for sub in ("logs", "pids", "work"):
            (self.directory / sub).mkdir()
        env = {k: v for k, v in os.environ.items() if k not in _CLIENT_VARIABLES}
        env.update(runtime.environ())
        env.update(
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(self.directory / "logs"),
            SPARK_PID_DIR=str(self.directory / "pids"),
            SPARK_WORKER_DIR=str(self.directory / "work"),
            PYSPARK_PYTHON=env.get("PYSPARK_PYTHON", sys.executable),
        )
        return env

    def _launch(self, name: str, command: list[str], env: dict[str, str]) -> _Daemon:
        assert self.directory is not None
        log = self.directory / "logs" / f"{name.replace(' ', '-').lower()}.log"
        daemon = _Daemon(name, command, env, log, self.directory)
        self._daemons.append(daemon)
        return daemon

    @property
    def running(self) -> bool:
        return any(d.alive() for d in self._daemons)

    @property
    def process_groups(self) -> list[int]:
        """Process-group ids of the daemons (one per daemon; each group holds its JVM)."""
        return [d.pgid for d in self._daemons]

    def stop(self) -> None:
        """Stop every daemon (newest first) and remove the private folder; safe to call again."""
        while self._daemons:
            self._daemons.pop().stop()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self):
        return self.start()  # each subclass's start() returns at once when already running

    def __exit__(self, *exc) -> None:
        self.stop()


#: The Spark Connect server's main class (``sbin/start-connect-server.sh``'s CLASS).
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


class ConnectServer(DaemonSet):
    """A Spark Connect server on 127.0.0.1 running Spark in ``local[*]`` mode, with the session
    defaults of :data:`mle_handbook.spark.SESSION_CONF`."""

    prefix = "mle-handbook-connect-"

    def __init__(self, *, master: str = "local[*]", startup_timeout: float = 180.0) -> None:
        super().__init__()
        self.master = master
        self.startup_timeout = startup_timeout
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the Spark Connect server has not been started")
        return f"sc://127.0.0.1:{self.port}"

    def start(self, port: int | None = None) -> ConnectServer:
        """Start the server and wait until it accepts connections; returns ``self``."""
        if self.running:
            return self
        if port is not None and port_open(port):
            raise SparkDaemonError(f"port {port} on 127.0.0.1 is already in use")
        env = self._prepare()
        self.port = port or free_port()
        conf = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            # Enough for the notebooks' data (about 210 MB live after a full collection); Spark
            # refuses a heap under 450 MB usable. Against 640m, Read the Docs' HTML command peaked
            # 50 to 90 MB lower in the same time (figures in the commit that chose 512m).
            "spark.driver.memory": "512m",
            "spark.driver.extraJavaOptions": (
                f"{JVM_OPTIONS} -Dlog4j2.configurationFile=file:{log4j_config('warn')}"
            ),
            **SESSION_CONF,
        }
        # What ``sbin/start-connect-server.sh --wait`` runs (PySpark 4.2, which the lock gives
        # Python 3.10, does not ship that script): the server in the foreground of our process
        # group (SPARK_NO_DAEMONIZE) instead of nohup'ing it.
        script = spark_home() / "sbin" / "spark-daemon.sh"
        command = ["bash", str(script), "submit", CONNECT_SERVER_CLASS, "1"]
        command += ["--name", "Spark Connect server", "--master", self.master]
        command += [arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")]
        env = {**env, "SPARK_NO_DAEMONIZE": "1", "SPARK_CONNECT_MODE": "0"}
        daemon = self._launch("Spark Connect server", command, env)
        try:
            daemon.wait_until(
                lambda: port_open(self.port), self.startup_timeout, f"listen on port {self.port}"
            )
        except BaseException:
            self.stop()
            raise
        return self
