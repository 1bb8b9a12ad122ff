"""`make lab`: JupyterLab in work/ whose "python3" kernel (the notebooks' kernel) is .venv's Python,
without nbgrader's instructor tools, and started as root where the user is root."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import ROOT

from mle_handbook.learners.start import (
    LAB_CONFIG,
    NBGRADER_LAB_EXTENSION,
    write_lab_config,
)

pytestmark = pytest.mark.slow

TOKEN = "mle-handbook-test-token"


def _lab_command() -> tuple[dict[str, str], list[str]]:
    """The environment variables and command `make lab` runs (as this user), for this venv."""
    proc = subprocess.run(
        ["make", "-n", "--no-print-directory", "lab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    words = shlex.split(proc.stdout.strip().splitlines()[-1])
    env = dict(w.split("=", 1) for w in words if re.fullmatch(r"[A-Z_]+=.*", w))
    command = [w for w in words if not re.fullmatch(r"[A-Z_]+=.*", w)]
    assert command[0] == ".venv/bin/jupyter", command
    command[0] = str(Path(sys.executable).parent / "jupyter")
    return env, command


def _api(port: int, path: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _kernels(server_pid: int) -> list[tuple[int, list[str]]]:
    """(pid, command line) of the kernels a server started."""
    found = []
    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.Error:
        return found
    for child in children:
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if any("ipykernel_launcher" in part for part in cmdline):
            found.append((child.pid, cmdline))
    return found


def _status(port: int, path: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _page_config(port: int) -> dict:
    """The page configuration JupyterLab's /lab page hands the browser."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/lab", headers={"Authorization": f"token {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        html = response.read().decode()
    found = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1))


@contextlib.contextmanager
def _running_lab(command: list[str], env_vars: dict[str, str], tmp_path: Path, work: Path):
    """JupyterLab started with ``command`` in ``work``; yields its port and its log file."""
    command = [w for w in command if not w.startswith("--notebook-dir=")]
    tmp_path.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command += [
        f"--notebook-dir={work}",
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
    ]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")},
        **env_vars,
        "JUPYTER_DATA_DIR": str(tmp_path / "user-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
    }
    log = tmp_path / "lab.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            command, env=env, stdout=output, stderr=output, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _api(port, "/api/status")
                break
            except OSError:
                assert server.poll() is None, "JupyterLab exited at start-up:\n" + log.read_text()
                assert time.monotonic() < deadline, "JupyterLab did not start within 120 s"
                time.sleep(1)
        yield server, port, log
    finally:
        leftovers = [pid for pid, _ in _kernels(server.pid)]
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        for pid in leftovers:
            if psutil.pid_exists(pid):
                psutil.Process(pid).kill()


def test_lab_passes_allow_root_exactly_when_run_as_root():
    # Jupyter refuses to start as root (containers, cloud desktops) without --allow-root.
    _, command = _lab_command()
    assert ("--allow-root" in command) == (os.geteuid() == 0), command


def test_lab_starts_the_notebooks_python3_kernel_with_the_venvs_python(tmp_path):
    # A user-level "python3" kernel that points elsewhere must not win over the environment's.
    decoy = tmp_path / "user-data" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(
        json.dumps({"argv": ["/usr/bin/false", "{connection_file}"], "display_name": "decoy"})
    )
    work = tmp_path / "work"
    work.mkdir()
    env_vars, command = _lab_command()
    assert command[-1] == "--notebook-dir=work"
    with _running_lab(command, env_vars, tmp_path, work) as (server, port, _):
        specs = _api(port, "/api/kernelspecs")
        assert specs["kernelspecs"]["python3"]["spec"]["display_name"] != "decoy"
        kernel = _api(port, "/api/kernels", "POST", {"name": "python3"})
        deadline = time.monotonic() + 60
        while not (launched := _kernels(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert launched, "no kernel process started"
        assert Path(launched[0][1][0]).resolve() == Path(sys.executable).resolve()
        _api(port, f"/api/kernels/{kernel['id']}", "DELETE")


def test_learners_lab_has_no_nbgrader_instructor_tools_but_a_plain_jupyter_lab_does(tmp_path):
    env_vars, command = _lab_command()
    assert env_vars["JUPYTER_CONFIG_PATH"] == str(ROOT / "work" / LAB_CONFIG)
    work = tmp_path / "work"
    env_vars["JUPYTER_CONFIG_PATH"] = str(write_lab_config(work))
    with _running_lab(command, env_vars, tmp_path / "learner", work) as (_, port, log):
        disabled = _page_config(port)["disabledExtensions"]
        assert NBGRADER_LAB_EXTENSION in disabled, disabled  # its menu, Create Assignment
        assert _status(port, "/formgrader") == 404
        assert _status(port, "/assignments") == 404
    assert "nbgrader" not in log.read_text(), log.read_text()  # no missing-configuration warning

    # Instructors start JupyterLab themselves (docs/instructors) and keep nbgrader's tools.
    instructor = [c for c in command if c != "--allow-root"]
    instructor += ["--allow-root"] if os.geteuid() == 0 else []
    with _running_lab(instructor, {}, tmp_path / "instructor", work) as (_, port, log):
        assert NBGRADER_LAB_EXTENSION not in _page_config(port)["disabledExtensions"]
        assert _status(port, "/formgrader") != 404
