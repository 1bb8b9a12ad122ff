"""Without Chromium, the browser tests skip at once with a message saying how to enable them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs pytest in a subprocess
HERE = Path(__file__).resolve().parent


def test_browser_tests_skip_with_install_advice_when_chromium_is_missing(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "test_site.py"), "-q", "-rs"]
        + ["-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE.parent.parent,
        env={**os.environ, "MLE_HANDBOOK_CHROMIUM": str(tmp_path / "no-chromium")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        " skipped" in proc.stdout and " passed" not in proc.stdout and "failed" not in proc.stdout
    )
    assert "sudo apt install chromium" in proc.stdout
