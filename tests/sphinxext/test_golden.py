"""What readers see on an exercise page, kept as a golden file (as sphinx-exercise does).

The fixture exercise is built with the handbook's extension and its page's main content (questions,
points, check lines, collapsed solutions, the summary line, downloads) is compared with
``tests/golden/squares.html``. A change to what readers see fails here until the golden file is
updated on purpose: ``MLE_HANDBOOK_UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/sphinxext/test_golden.py``, then review the diff like any other change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "squares.html"


def article(page: str) -> str:
    """The page's main content (the theme's frame left out), one block tag per line."""
    found = re.search(r'role="main">(.*?)<div class="sphinxsidebar"', page, re.S)
    assert found, "no main content in the page"
    body = re.sub(r"\s+", " ", found.group(1))
    body = re.sub(r"(<(?:div|p|details|summary|section|h\d|pre)\b)", r"\n\1", body)
    return "\n".join(line.strip() for line in body.splitlines() if line.strip()) + "\n"


def test_exercise_page_shows_readers_what_the_golden_file_shows(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    result = mini_project.build()
    assert result.returncode == 0, result.output
    seen = article((result.outdir / "exercises" / "squares.html").read_text())
    if os.environ.get("MLE_HANDBOOK_UPDATE_GOLDEN"):
        GOLDEN.write_text(seen)
    assert seen == GOLDEN.read_text(), (
        "the exercise page changed; if intended, update tests/golden/squares.html "
        "(see this module's docstring)"
    )


def test_golden_page_has_the_summary_points_checks_and_closed_solutions():
    golden = GOLDEN.read_text()
    assert "3 questions · 4 points</strong> · all checks passed in this build" in golden
    assert golden.count('<details class="mleh-solution">') == 3 and "<details open" not in golden
    assert "Check <code>square-examples</code> · 2 points · ✓ passed in this build" in golden
    assert "BEGIN HIDDEN" not in golden and "square(-2)" not in golden
