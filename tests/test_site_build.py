"""A clean build of the whole handbook, executing every notebook, with warnings as errors."""

from __future__ import annotations

import re

import pytest

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


@pytest.mark.parametrize(
    "page",
    [
        "notebooks/spark",
        "exercises/spark",
        "notebooks/decision-trees",
        "notebooks/probability",
        "exercises/decision-trees",
        "exercises/probability",
    ],
)
def test_rendered_notebook_pages_carry_no_jvm_noise(built_site, page):
    result, _ = built_site
    html = (result.outdir / f"{page}.html").read_text()
    noise = NOISE.findall(html)
    assert not noise, f"{page}: {sorted(set(noise))}"


@pytest.mark.parametrize(
    "page", ["exercises/decision-trees", "exercises/probability", "exercises/spark"]
)
def test_exercise_pages_report_every_check_passed(built_site, page):
    result, _ = built_site
    html = (result.outdir / f"{page}.html").read_text()
    assert re.search(r"\d+ questions · \d+ points</strong> · all checks passed in this build", html)
    assert "BEGIN HIDDEN TESTS" not in html and '<details class="mleh-solution" open' not in html
