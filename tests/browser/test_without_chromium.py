"""Without Chromium, the browser tests skip at once with a message saying how to enable them, except
under MLE_HANDBOOK_REQUIRE_BROWSER=1 (CI), where they fail; either way the run says how many ran."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REQUIRE_BROWSER

pytestmark = pytest.mark.slow  # runs pytest in a subprocess
HERE = Path(__file__).resolve().parent


def _browser_tests_without_chromium(tmp_path, **environ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_BROWSER}
    env["MLE_HANDBOOK_CHROMIUM"] = str(tmp_path / "no-chromium")
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "test_site.py"), "-q", "-rs"]
        + ["-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE.parent.parent,
        env={**env, **environ},
    )


def test_browser_tests_skip_with_install_advice_when_chromium_is_missing(tmp_path):
    proc = _browser_tests_without_chromium(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.fullmatch(r"\d+ skipped in .*", proc.stdout.splitlines()[-1]), proc.stdout[-2000:]
    assert "sudo apt install chromium" in proc.stdout
    assert re.search(
        r"^Browser tests \(no browser at .*\): 0 ran .* \d+ skipped$", proc.stdout, re.M
    )


def test_browser_tests_fail_without_chromium_when_ci_requires_them(tmp_path):
    proc = _browser_tests_without_chromium(tmp_path, **{REQUIRE_BROWSER: "1"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.fullmatch(r"\d+ errors in .*", proc.stdout.splitlines()[-1]), proc.stdout[-2000:]
    assert f"{REQUIRE_BROWSER} is set, so the browser tests must run" in proc.stdout
    assert "sudo apt install chromium" in proc.stdout
    summary = re.search(r"^Browser tests .*: 0 ran .*, (\d+) errors, 0 skipped", proc.stdout, re.M)
    assert summary and int(summary.group(1)) > 20, proc.stdout[-2000:]
