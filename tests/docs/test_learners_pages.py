"""The learners' section: a landing page and content pages of substance, each ending where to go."""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_content import page_words

LEARNERS = ROOT / "docs" / "learners"
PAGES = sorted(p for p in LEARNERS.glob("*.md") if p.name != "index.md")


def test_learners_section_has_the_pages_the_issue_asks_for():
    assert {p.stem for p in PAGES} >= {
        "setting-up",
        "working-through-notebooks",
        "checks-and-hints",
        "getting-help",
        "learning-path",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_learners_content_page_has_at_least_400_words(page):
    assert page_words(page) >= 400, f"{page.name} has {page_words(page)} words of prose"


def test_setting_up_covers_linux_macos_and_windows_through_wsl():
    text = (LEARNERS / "setting-up.md").read_text()
    for heading in ("## Linux", "## macOS", "## Windows, through WSL"):
        assert heading in text


def test_learning_path_links_role_duties_skills_notebooks_and_exercises():
    text = (LEARNERS / "learning-path.md").read_text()
    for target in (
        "/docs/role/index",
        "/docs/duties/index",
        "/docs/skills/",
        "/notebooks/",
        "/exercises/",
    ):
        assert target in text, target
