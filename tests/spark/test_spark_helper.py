"""``mle_handbook.spark.get_spark`` and the shop data it is used with.

The fast tests need no Java: they check the choice of mode, the log configuration, the error for a
missing Java runtime and the committed data. The slow ones start one embedded session and check its
settings and how it reads a messy CSV file.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest

from mle_handbook import spark as spark_helper
from mle_handbook.spark import datasets
from mle_handbook.spark.java import JavaNotFound, JavaRuntime, find_java

ROOT = Path(__file__).resolve().parents[2]
EVENT_SCHEMA = (
    "user_id LONG, event_time TIMESTAMP, event_type STRING, item_id STRING, amount DOUBLE"
)

# --- without Spark ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "environ, mode",
    [
        ({}, "local"),
        ({"SPARK_MASTER": "spark://127.0.0.1:7077"}, "cluster"),
        ({"SPARK_REMOTE": "sc://127.0.0.1:15002"}, "connect"),
        ({"SPARK_REMOTE": "sc://127.0.0.1:15002", "SPARK_MASTER": "yarn"}, "connect"),
        ({"SPARK_REMOTE": "", "SPARK_MASTER": ""}, "local"),
    ],
)
def test_spark_mode_follows_the_environment(environ, mode):
    assert spark_helper.spark_mode(environ) == mode


def test_log4j_config_quietens_spark_and_its_shell_announcement(tmp_path):
    path = spark_helper.log4j_config("error", directory=tmp_path)
    text = path.read_text()
    assert "rootLogger.level = error" in text
    # Without its own level, PySpark's gateway announces "Setting default log level" on stderr.
    assert "org.apache.spark.api.python.PythonGatewayServer" in text
    assert spark_helper.log4j_config("error", directory=tmp_path) == path  # rewritten in place


def test_missing_java_is_a_clear_error_not_a_py4j_traceback(monkeypatch):
    def no_java():
        raise JavaNotFound("No usable Java runtime found (tried: nothing). Install a JDK.")

    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.setattr(spark_helper.session, "find_java", no_java)  # what get_spark calls
    with pytest.raises(JavaNotFound, match="Install a JDK") as caught:
        spark_helper.get_spark()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_spark_runs_any_java_without_the_incubator_module_whose_warning_cannot_be_silenced(
    tmp_path, monkeypatch
):
    # A stand-in runtime whose java prints its arguments, one a line.
    real = tmp_path / "jdk"
    (real / "bin").mkdir(parents=True)
    (real / "lib").mkdir()
    (real / "bin" / "java").write_text('#!/bin/sh\nfor arg do echo "$arg"; done\n')
    (real / "bin" / "java").chmod(0o755)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    home = Path(JavaRuntime(real, 21, "PATH").environ()["JAVA_HOME"])
    assert home != real and (home / "lib").resolve() == real / "lib"
    args = ["--add-modules=jdk.incubator.vector", "--add-modules", "jdk.incubator.vector"]
    args += ["--add-modules", "java.sql", "-Xmx1g", "Main"]
    out = subprocess.run([home / "bin" / "java", *args], capture_output=True, text=True).stdout
    assert out.splitlines() == ["--add-modules", "java.sql", "-Xmx1g", "Main"]
    assert JavaRuntime(home, 21, "PATH").environ()["JAVA_HOME"] == str(home)  # not wrapped twice


@pytest.mark.slow
def test_sparks_java_prints_no_incubator_warning():
    # What Spark's launcher runs; a full JDK prints "WARNING: Using incubator modules: ..."
    # (on every `mle-handbook progress`, notebook and build) unless the request is dropped.
    try:
        home = find_java().environ()["JAVA_HOME"]
    except JavaNotFound:
        pytest.skip("no Java runtime")
    proc = subprocess.run(
        [f"{home}/bin/java", "--add-modules=jdk.incubator.vector", "-version"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "incubator" not in proc.stderr, proc.stderr


def test_session_settings_are_all_runtime_sql_settings():
    # Spark Connect sessions can only change runtime SQL settings, so every session setting is one.
    assert set(spark_helper.SESSION_CONF) == {
        "spark.sql.session.timeZone",
        "spark.sql.csv.parser.columnPruning.enabled",
        "spark.sql.shuffle.partitions",
        "spark.sql.maxMetadataStringLength",
    }
    assert spark_helper.SESSION_CONF["spark.sql.session.timeZone"] == "UTC"
    assert spark_helper.SESSION_CONF["spark.sql.csv.parser.columnPruning.enabled"] == "false"


# --- the committed data ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "folder, options",
    [
        ("exercises/data", {"seed": 2026, "n_users": 800, "n_events": 8000}),
        ("notebooks/data", {"seed": 1066, "n_users": 600, "n_events": 6000}),
    ],
)
def test_committed_shop_data_is_what_the_generator_writes(tmp_path, folder, options):
    files = datasets.write_shop_data(tmp_path, **options)
    for written in (files.events, files.users):
        committed = ROOT / folder / written.name
        assert committed.read_bytes() == written.read_bytes(), (
            f"{committed} differs from `python -m mle_handbook.spark.datasets {folder} --seed "
            f"{options['seed']} --users {options['n_users']} --events {options['n_events']}`"
        )


def test_committed_shop_data_is_small():
    files = [
        *(ROOT / "exercises" / "data").glob("*.csv"),
        *(ROOT / "notebooks" / "data").glob("*.csv"),
    ]
    assert sum(path.stat().st_size for path in files) < 1_000_000


def test_event_log_has_each_kind_of_malformed_line(tmp_path):
    files = datasets.write_shop_data(tmp_path, seed=5, n_users=300, n_events=6000)
    with open(files.events, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == datasets.EVENTS_HEADER.split(",")
    body = rows[1:]
    assert any(len(r) < 5 for r in body) and any(len(r) > 5 for r in body)
    five = [r for r in body if len(r) == 5]
    assert any(not r[0].isdigit() for r in five), "no user id that is not a number"
    assert any(r[4].startswith("£") for r in five), "no amount written with a pound sign"
    assert any("-02-30 " in r[1] for r in five), "no date that does not exist"
    assert any(r[1] in ("unknown", "NULL", "-", "N/A") for r in five), "no placeholder timestamp"
    assert any("/" in r[1] for r in five), "no timestamp in another format"
    good_time = re.compile(r"2024-(0[1-6])-\d\d \d\d:\d\d:\d\d")
    good = [
        r
        for r in five
        if r[0].isdigit()
        and good_time.fullmatch(r[1])
        and "-02-30" not in r[1]
        and not r[4].startswith("£")
    ]
    malformed = len(body) - len(good)
    assert 0.005 < malformed / len(body) < 0.03


def test_users_cover_the_uk_regions_and_some_never_act(tmp_path):
    files = datasets.write_shop_data(tmp_path, seed=5, n_users=600, n_events=6000)
    with open(files.users, newline="", encoding="utf-8") as handle:
        users = list(csv.DictReader(handle))
    assert {u["region"] for u in users} == set(datasets.REGIONS)
    assert {u["plan"] for u in users} == set(datasets.PLANS)
    with open(files.events, newline="", encoding="utf-8") as handle:
        active = {r[0] for r in csv.reader(handle)}
    idle = [u for u in users if u["user_id"] not in active]
    assert 0.03 < len(idle) / len(users) < 0.2
    assert {r for r in active if r.isdigit()} <= {u["user_id"] for u in users}


# --- with an embedded session ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_spark():
    """The embedded session (no SPARK_REMOTE or SPARK_MASTER in the environment)."""
    patch = pytest.MonkeyPatch()
    patch.delenv("SPARK_REMOTE", raising=False)
    patch.delenv("SPARK_MASTER", raising=False)
    session = spark_helper.get_spark("test-spark-helper")
    yield session
    session.stop()
    patch.undo()


@pytest.mark.slow
def test_local_session_is_set_up_for_a_laptop(local_spark):
    import os

    conf = local_spark.sparkContext.getConf()
    assert conf.get("spark.master") == "local[*]"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.driver.memory") == "1g"
    assert "log4j2.configurationFile" in conf.get("spark.driver.extraJavaOptions")
    jvm = local_spark.sparkContext._jvm.java.lang.management.ManagementFactory
    arguments = list(jvm.getRuntimeMXBean().getInputArguments())
    for option in spark_helper.JVM_OPTIONS.split():
        assert option in arguments, arguments
    assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    for key, value in spark_helper.SESSION_CONF.items():
        assert local_spark.conf.get(key) == value
    assert spark_helper.get_spark() is local_spark  # reused, not started twice


@pytest.mark.slow
def test_local_session_drops_malformed_lines_and_reads_times_in_utc(local_spark, tmp_path):
    from pyspark.sql import functions as F

    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_time,event_type,item_id,amount\n"
        "1,2024-03-31 00:30:00,view,I001,\n"
        "2,2024-03-31 23:30:00,purchase,I002,9.99\n"
        "3,2024-02-30 10:00:00,view,I001,\n"
        "x4,2024-03-01 10:00:00,view,I001,\n"
        "5,2024-03-01 10:00:00,view\n"
        "6,2024-03-01 10:00:00,view,I001,,web\n",
        encoding="utf-8",
    )
    events = local_spark.read.csv(str(path), header=True, schema=EVENT_SCHEMA, mode="DROPMALFORMED")
    rows = events.select(
        "user_id",
        F.date_format("event_time", "yyyy-MM-dd HH:mm").alias("t"),
        F.to_date("event_time"),
    ).collect()
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        (1, "2024-03-31 00:30", "2024-03-31"),
        (2, "2024-03-31 23:30", "2024-03-31"),  # the UK is on summer time here; UTC is not
    ]
    # Column pruning is off: lines with the wrong number of fields are dropped whatever is read.
    assert sorted(r.event_type for r in events.select("event_type").collect()) == [
        "purchase",
        "view",
        "view",
        "view",
    ]
