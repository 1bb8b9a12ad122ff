"""`make lab`: JupyterLab in work/ whose "python3" kernel (the notebooks' kernel) is .venv's Python."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

TOKEN = "mle-handbook-test-token"


def _lab_command() -> tuple[dict[str, str], list[str]]:
    """The environment variables and command of the Makefile's `lab` recipe, for this venv."""
    recipe = re.search(r"^lab: student\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    words = recipe.split()
    env = dict(w.split("=", 1) for w in words if re.fullmatch(r"[A-Z_]+=\S*", w))
    command = [w for w in words if not re.fullmatch(r"[A-Z_]+=\S*", w)]
    command[0] = command[0].replace("$(BIN)", str(Path(sys.executable).parent))
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


def test_lab_starts_the_notebooks_python3_kernel_with_the_venvs_python(tmp_path):
    # A user-level "python3" kernel that points elsewhere must not win over the environment's.
    data_dir = tmp_path / "user-data"
    decoy = data_dir / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(
        json.dumps({"argv": ["/usr/bin/false", "{connection_file}"], "display_name": "decoy"})
    )
    work = tmp_path / "work"
    work.mkdir()
    env_vars, command = _lab_command()
    assert command[-1] == "--notebook-dir=work"
    command[-1] = f"--notebook-dir={work}"
    port = 20000 + os.getpid() % 20000
    command += [
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # containers and CI run as root
    ]
    env = {
        **os.environ,
        **env_vars,
        "JUPYTER_DATA_DIR": str(data_dir),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
    }
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _api(port, "/api/status")
                break
            except OSError:
                assert server.poll() is None, "JupyterLab exited at start-up"
                assert time.monotonic() < deadline, "JupyterLab did not start within 120 s"
                time.sleep(1)
        specs = _api(port, "/api/kernelspecs")
        assert specs["kernelspecs"]["python3"]["spec"]["display_name"] != "decoy"
        kernel = _api(port, "/api/kernels", "POST", {"name": "python3"})
        deadline = time.monotonic() + 60
        while not (launched := _kernels(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert launched, "no kernel process started"
        assert Path(launched[0][1][0]).resolve() == Path(sys.executable).resolve()
        _api(port, f"/api/kernels/{kernel['id']}", "DELETE")
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
