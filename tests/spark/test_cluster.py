"""The same code on a real cluster: the exercise's model answers on a standalone Spark cluster
(through ``SPARK_MASTER``) and through a Spark Connect server (through ``SPARK_REMOTE``).

Each daemon is started by ``mle_handbook.spark.server`` on 127.0.0.1 under ``setsid`` and stopped
by a fixture, also when a test fails; the tests then prove that no process of its process group is
left. The exercise runs in a child Python process, as a notebook kernel would, so that its session
(and its driver JVM) ends with that process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mle_handbook.spark.server import ConnectServer, SparkDaemonError, process_group_alive

from .cluster import StandaloneCluster

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "spark.ipynb"

# Runs every cell of the exercise (model answers included) and prints what happened as JSON.
RUNNER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    from exercise_harness import check_outcomes
    from mle_handbook.spark import get_spark

    outcomes = check_outcomes({exercise!r})
    spark = get_spark()
    if "connect" in type(spark).__module__:
        where = "connect:" + spark.conf.get("spark.connect.grpc.binding.port")
    else:
        where = spark.sparkContext.master
    spark.stop()
    print(json.dumps({{"outcomes": outcomes, "where": where}}))
    """
).format(tests=str(ROOT / "tests"), exercise=str(EXERCISE))


def run_exercise(**environ: str) -> dict:
    """Run the exercise in a child process whose environment names the cluster."""
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_MASTER", "SPARK_REMOTE")}
    env.update(SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable, **environ)
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER],
        cwd=EXERCISE.parent,  # the exercise reads data/ next to itself
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"the exercise run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_all_checks_pass(result: dict) -> None:
    outcomes = result["outcomes"]
    problems = {k: v for k, v in outcomes.items() if v is not None}
    assert not problems, f"on {result['where']}: {problems}"
    assert len(outcomes) >= 14 and not any(k.startswith("<cell") for k in outcomes)


@pytest.fixture
def standalone_cluster():
    cluster = StandaloneCluster()
    try:
        yield cluster.start()
    finally:
        groups = cluster.process_groups
        cluster.stop()
        cluster.stop()  # stopping twice is harmless
        assert not cluster.running
        assert not any(process_group_alive(g) for g in groups), "a daemon outlived stop()"


@pytest.fixture
def connect_server():
    server = ConnectServer()
    try:
        yield server.start()
    finally:
        groups = server.process_groups
        server.stop()
        assert not server.running
        assert not any(process_group_alive(g) for g in groups), "the server outlived stop()"


def test_exercise_solutions_run_on_a_standalone_cluster(standalone_cluster):
    assert standalone_cluster.alive_workers() == 1
    result = run_exercise(SPARK_MASTER=standalone_cluster.master_url)
    assert result["where"] == standalone_cluster.master_url
    assert_all_checks_pass(result)
    apps = standalone_cluster.state().get("completedapps", [])
    assert apps, "the master ran no application: the session did not use the cluster"


def test_exercise_solutions_run_through_spark_connect(connect_server):
    assert connect_server.url.startswith("sc://127.0.0.1:")
    result = run_exercise(SPARK_REMOTE=connect_server.url)
    assert result["where"] == f"connect:{connect_server.port}"
    assert_all_checks_pass(result)


def test_connect_server_jvm_runs_with_the_handbook_jvm_options(connect_server):
    import psutil

    from mle_handbook.spark import JVM_OPTIONS

    javas = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) not in connect_server.process_groups:
                continue
            cmdline = proc.cmdline()
        except (ProcessLookupError, psutil.Error):
            continue
        if cmdline[0].endswith("java") and "org.apache.spark.deploy.SparkSubmit" in cmdline:
            javas.append(cmdline)
    assert len(javas) == 1, javas
    assert "-Xmx512m" in javas[0]
    for option in JVM_OPTIONS.split():
        assert option in javas[0]


def test_connect_server_that_cannot_start_reports_the_end_of_its_log():
    server = ConnectServer(master="nowhere://at-all", startup_timeout=240)
    with pytest.raises(SparkDaemonError, match="Last lines of") as caught:
        server.start()
    assert "nowhere://at-all" in str(caught.value), caught.value
    assert not server.running and server.directory is None


def test_connect_server_refuses_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ConnectServer()
        with pytest.raises(SparkDaemonError, match="already in use"):
            server.start(port=taken.getsockname()[1])
        assert not server.running
