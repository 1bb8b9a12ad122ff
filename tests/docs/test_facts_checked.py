"""Every page with time-sensitive facts says when they were checked, within the last 12 months.

The handbook's pages are checked against a fixed day, so the suite gives the same answer whenever
it runs; bump ``AS_OF`` when the facts are re-checked (see docs/authors/checking-facts.md). The
other tests prove, on pages made in tmp_path, that the check fails on a missing, unreadable, old
or future date, and that a new page in a time-sensitive section cannot slip through.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mle_handbook.sphinxext.facts import TIME_SENSITIVE_SECTIONS, stale_pages

ROOT = Path(__file__).resolve().parents[2]
# The day the handbook's facts were last re-checked as a whole.
AS_OF = dt.date(2026, 12, 7)


def page(root: Path, relative: str, checked: str | None) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    matter = f"---\nfacts_checked: {checked}\n---\n" if checked is not None else ""
    path.write_text(f"{matter}# A page\n\nSome facts.\n")
    return path


def test_every_time_sensitive_page_of_the_handbook_was_checked_within_12_months():
    problems = stale_pages(ROOT, AS_OF)
    assert not problems, "\n".join(f"{path}: {problem}" for path, problem in problems)


def test_law_pay_and_visa_sections_are_time_sensitive():
    assert {"docs/law", "docs/routes", "docs/role"} <= set(TIME_SENSITIVE_SECTIONS)
    for section in TIME_SENSITIVE_SECTIONS:
        assert (ROOT / section).is_dir(), f"{section} is listed but does not exist"


def test_a_page_checked_12_months_ago_passes_and_13_months_ago_fails(tmp_path):
    page(tmp_path, "docs/law/recent.md", "2025-12")
    page(tmp_path, "docs/law/old.md", "2025-11")
    problems = dict(stale_pages(tmp_path, dt.date(2026, 12, 1)))
    assert list(problems) == [Path("docs/law/old.md")]
    assert "13 months before 2026-12-01" in problems[Path("docs/law/old.md")]


def test_a_new_page_in_a_time_sensitive_section_without_a_date_fails(tmp_path):
    page(tmp_path, "docs/routes/new-visa-page.md", None)
    [(path, problem)] = stale_pages(tmp_path, AS_OF)
    assert path == Path("docs/routes/new-visa-page.md")
    assert "no facts_checked date" in problem


def test_an_unreadable_or_future_date_fails(tmp_path):
    page(tmp_path, "docs/role/typo.md", "Nov 2026")
    page(tmp_path, "docs/role/future.md", "2027-03")
    problems = dict(stale_pages(tmp_path, AS_OF))
    assert "is not a year and month" in problems[Path("docs/role/typo.md")]
    assert "later than 2026-12-07" in problems[Path("docs/role/future.md")]


def test_a_dated_page_outside_the_sections_is_held_to_its_date_and_an_undated_one_is_not(
    tmp_path,
):
    page(tmp_path, "docs/skills/old.md", "2024-01")
    page(tmp_path, "docs/skills/timeless.md", None)
    assert [path for path, _ in stale_pages(tmp_path, AS_OF)] == [Path("docs/skills/old.md")]


def test_the_answer_depends_on_the_day_given_not_on_the_clock(tmp_path):
    page(tmp_path, "docs/law/page.md", "2026-11")
    assert stale_pages(tmp_path, dt.date(2027, 11, 30)) == []
    assert len(stale_pages(tmp_path, dt.date(2027, 12, 1))) == 1
