"""A page's ``facts_checked`` front matter is shown under its title; a bad value fails the build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mle_handbook.sphinxext.facts import describe, front_matter, parse_checked

CONF = (
    "extensions = ['myst_parser', 'mle_handbook.sphinxext.facts']\nexclude_patterns = ['_build']\n"
)


def build(srcdir: Path, pages: dict[str, str]) -> tuple[int, str, Path]:
    """Build a tiny project of MyST ``pages`` with warnings as errors."""
    (srcdir / "conf.py").write_text(CONF)
    toctree = "\n".join(name for name in pages if name != "index")
    (srcdir / "index.md").write_text(f"# Mini\n\n```{{toctree}}\n{toctree}\n```\n")
    for name, text in pages.items():
        (srcdir / f"{name}.md").write_text(text)
    outdir = srcdir / "_build" / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "-q", "--no-color"]
        + [str(srcdir), str(outdir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return proc.returncode, proc.stdout + proc.stderr, outdir


def test_parse_checked_reads_a_year_and_month_and_rejects_anything_else():
    assert parse_checked("2026-11") == (2026, 11)
    assert parse_checked("'2026-01'") == (2026, 1)
    assert parse_checked("2026-11-03") == (2026, 11)
    for bad in ("2026-13", "November 2026", "26-11", ""):
        with pytest.raises(ValueError, match="year and month"):
            parse_checked(bad)


def test_describe_names_the_month_in_english():
    assert describe(2026, 11) == "November 2026"
    assert describe(2027, 1) == "January 2027"


def test_front_matter_reads_top_level_keys_only():
    text = "---\nfacts_checked: 2026-11\nmyst:\n  substitutions: {}\n---\n# Title\n"
    assert front_matter(text) == {"facts_checked": "2026-11", "myst": ""}
    assert front_matter("# No front matter\n\nfacts_checked: 2026-11\n") == {}


@pytest.mark.slow
def test_page_shows_when_its_facts_were_checked_under_the_title(tmp_path):
    dated = "---\nfacts_checked: 2026-11\n---\n# Pay\n\nFirst paragraph.\n"
    undated = "# Glossary\n\nNo dates here.\n"
    code, output, outdir = build(tmp_path, {"pay": dated, "glossary": undated})
    assert code == 0, output

    html = (outdir / "pay.html").read_text()
    assert '<p class="facts-checked"><em>Facts checked: November 2026</em></p>' in html
    # Directly under the title, before the page's own first paragraph.
    assert html.index("</h1>") < html.index("Facts checked") < html.index("First paragraph")
    assert "Facts checked" not in (outdir / "glossary.html").read_text()


@pytest.mark.slow
def test_a_value_that_is_not_a_year_and_month_fails_the_build_naming_the_page(tmp_path):
    bad = "---\nfacts_checked: Nov 2026\n---\n# Visas\n\nText.\n"
    code, output, _ = build(tmp_path, {"visas": bad})
    assert code != 0
    assert "visas" in output
    assert "'Nov 2026' is not a year and month such as 2026-11" in output
