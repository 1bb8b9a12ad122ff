"""A clean build of the whole handbook, executing every notebook, with warnings as errors."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

# What the JVM prints when its stderr leaks into a cell's output: log4j's own messages, logger lines
# such as "25/11/26 10:00:00 WARN SparkContext: ...", progress bars and terminal escape codes. Prose
# may name SparkContext; only a logger line that does is noise.
NOISE = re.compile(
    r"log4j|\b(?:INFO|WARN|ERROR)\s+[A-Z]\w+:|\[Stage \d+|Using Spark's default|\x1b\["
)


def test_clean_build_succeeds_with_warnings_as_errors(built_site):
    result, _ = built_site
    assert result.returncode == 0, result.output[-5000:]


def test_build_leaves_no_kernel_or_jvm_running(built_site):
    _, leftover = built_site
    assert not leftover, f"processes outlived the build: {leftover}"


def test_noise_pattern_catches_jvm_lines_but_not_prose_naming_spark_classes():
    leaked = [
        "25/11/26 10:00:00 WARN SparkContext: Another SparkContext is being constructed",
        "Using Spark's default log4j profile: org/apache/spark/log4j2-defaults.properties",
        "[Stage 3:=====>   (2 + 1) / 4]",
        "\x1b[0;31mTypeError\x1b[0m",
    ]
    assert all(NOISE.search(line) for line in leaked)
    assert not NOISE.search(
        "Use DataFrames, not RDDs or <code>SparkContext</code>: warnings matter."
    )


NOTEBOOK_PAGES = sorted(
    p.relative_to(ROOT).with_suffix("").as_posix()
    for folder in ("notebooks", "exercises")
    for p in (ROOT / folder).glob("*.ipynb")
)
EXERCISE_PAGES = [page for page in NOTEBOOK_PAGES if page.startswith("exercises/")]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_rendered_notebook_pages_carry_no_jvm_noise(built_site, page):
    result, _ = built_site
    html = (result.outdir / f"{page}.html").read_text()
    noise = NOISE.findall(html)
    assert not noise, f"{page}: {sorted(set(noise))}"


@pytest.mark.parametrize("page", EXERCISE_PAGES)
def test_exercise_pages_report_every_check_passed(built_site, page):
    result, _ = built_site
    html = (result.outdir / f"{page}.html").read_text()
    assert re.search(r"\d+ questions · \d+ points</strong> · all checks passed in this build", html)
    assert "BEGIN HIDDEN TESTS" not in html and '<details class="mleh-solution" open' not in html


def _hidden_test_lines() -> dict[str, list[str]]:
    """Each exercise's substantive hidden-test lines (what the site must never show)."""
    import nbformat

    from mle_handbook.exercises.markers import (
        BEGIN_HIDDEN,
        END_HIDDEN,
        cell_kind,
        region_lines,
        replace_regions,
    )

    notebooks = {
        path: nbformat.read(path, as_version=4)
        for folder in ("exercises", "notebooks")
        for path in sorted((ROOT / folder).glob("*.ipynb"))
    }
    # A line that any notebook also shows outside hidden tests ("raise AssertionError(") is no secret.
    visible = "\n".join(
        replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, None)
        for nb in notebooks.values()
        for cell in nb.cells
    )
    found = {}
    for path, nb in notebooks.items():
        if path.parent.name != "exercises":
            continue
        lines = {
            line.strip()
            for cell in nb.cells
            if cell_kind(cell).autograded_test
            for line in region_lines(cell.source, (BEGIN_HIDDEN,))
        }
        found[path.stem] = sorted(line for line in lines if len(line) >= 20 and line not in visible)
    return found


def _published_texts(outdir):
    """Every published file's text, zip members included, by path."""
    import io
    import zipfile

    for path in sorted(p for p in outdir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    yield f"{path}!{name}", archive.read(name).decode("utf-8", "replace")
        else:
            yield str(path), data.decode("utf-8", "replace")


def test_published_site_carries_no_hidden_test_and_no_doctrees(built_site):
    result, _ = built_site
    hidden = _hidden_test_lines()
    assert all(hidden.values()), "every exercise has hidden tests to look for"
    leaks = [
        (where, line)
        for where, text in _published_texts(result.outdir)
        for lines in hidden.values()
        for line in lines
        if line in text
    ]
    assert not leaks, leaks[:5]
    assert not (result.outdir / ".doctrees").exists()
    assert not [p for p in (result.outdir / "_sources").rglob("*") if p.is_file()]  # no copies


def test_published_site_names_no_folder_of_the_build_machine(built_site):
    result, _ = built_site
    machine = [str(ROOT), str(result.outdir.parent)]
    found = [
        (where, folder)
        for where, text in _published_texts(result.outdir)
        for folder in machine
        if folder in text
    ]
    assert not found, found[:5]


SOURCES = ("conf.py", "index.md", "requirements.lock", "pyproject.toml", "Makefile")
SOURCE_DIRS = ("docs", "notebooks", "exercises")


def _make_flags() -> list[str]:
    found = re.search(
        r"^SPHINXFLAGS := (.*?) \$\(SPHINXOPTS\)$", (ROOT / "Makefile").read_text(), re.M
    )
    return found.group(1).split()


def test_a_clean_build_in_another_folder_publishes_the_same_bytes(built_site, tmp_path_factory):
    """Reproducible: no build date, no machine folder, no random name in any published file."""
    import shutil
    import subprocess
    import sys

    result, _ = built_site
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    src = elsewhere / "handbook"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    for name in SOURCE_DIRS:
        shutil.copytree(
            ROOT / name, src / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
    out = elsewhere / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", *_make_flags(), "-E"]
        + ["-d", str(elsewhere / "doctrees"), str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    def files(root):
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}

    first, second = files(result.outdir), files(out)
    assert sorted(first) == sorted(second)
    # .buildinfo holds a hash of the settings, which name the extension's folder relative to the
    # project: the copy here shares this checkout's .venv, a clone would have its own (equal).
    differing = [
        name
        for name in first
        if name != ".buildinfo" and first[name].read_bytes() != second[name].read_bytes()
    ]
    assert not differing, differing[:10]
