"""The build command ends the process at once, with Sphinx's exit status and all its output."""

from __future__ import annotations

import subprocess
import sys


def _build(tmp_path, index: str) -> subprocess.CompletedProcess:
    (tmp_path / "conf.py").write_text("exclude_patterns = ['_build']\n")
    (tmp_path / "index.rst").write_text(index)
    return subprocess.run(
        [sys.executable, "-m", "mle_handbook.sphinx_build", "-b", "html", "-n", "-W"]
        + ["--keep-going", "--no-color", str(tmp_path), str(tmp_path / "_build")],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_successful_build_exits_zero_with_its_pages_and_log(tmp_path):
    result = _build(tmp_path, "Title\n=====\n\nText.\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "_build" / "index.html").exists()
    assert "build succeeded" in result.stdout


def test_build_with_a_warning_exits_non_zero_and_keeps_the_warning(tmp_path):
    result = _build(tmp_path, "Title\n=====\n\nSee :doc:`missing-page`.\n")
    assert result.returncode == 1
    assert "unknown document" in result.stderr and "missing-page" in result.stderr
    assert "build finished with problems" in result.stdout + result.stderr


def test_bad_arguments_exit_like_sphinx_build(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mle_handbook.sphinx_build", "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "usage: sphinx-build" in result.stderr


def test_the_collector_is_left_as_it_was(monkeypatch, capsys):
    import gc

    from mle_handbook import sphinx_build

    monkeypatch.setattr(sys, "argv", ["sphinx-build", "--version"])
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            try:
                sphinx_build.main(["--version"])
            except SystemExit:
                pass
            assert gc.isenabled() is enabled
            assert "sphinx-build" in capsys.readouterr().out
        finally:
            gc.enable()
