"""When a page's facts were last checked: shown on the page, and checked for age by the tests.

Pages with time-sensitive facts (pay, visas, law, funding, demand, frameworks) declare the month
their facts were last checked against the sources, in their MyST front matter::

    ---
    facts_checked: 2026-11
    ---

Which pages must carry the key is decided here, in one place: every page under one of
:data:`TIME_SENSITIVE_SECTIONS` (so a new pay, visa or law page cannot slip through), and any other
page that declares the key (its date is then held to the same rule).

Two parts use it:

- the Sphinx extension (:func:`setup`) puts a line "Facts checked: November 2026" under the page
  title, and warns (an error under ``-W``) when the value is not a year and a month;
- :func:`stale_pages`, a pure function the tests call with a fixed date, lists time-sensitive pages
  with no date, an unreadable date, a date in the future, or a date more than ``max_age_months``
  before the given day. ``python -m mle_handbook.sphinxext.facts`` runs it against today's date.

Registered by the handbook's main extension with ``app.setup_extension(__name__)``; it can also be
listed in ``extensions`` on its own.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

from docutils import nodes

KEY = "facts_checked"
# Folders (relative to the source root) whose every page must say when its facts were checked.
TIME_SENSITIVE_SECTIONS = ("docs/law", "docs/role", "docs/routes")
MAX_AGE_MONTHS = 12
CSS_CLASS = "facts-checked"

# English month names, independent of the machine's locale (the build must be reproducible).
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)


def parse_checked(value) -> tuple[int, int]:
    """The (year, month) of a ``facts_checked`` value such as ``2026-11``.

    A full date (``2026-11-03``, or the date object YAML makes of it) is accepted and read as its
    month. Anything else raises :class:`ValueError` saying what was expected.
    """
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year, value.month
    match = _YEAR_MONTH.match(str(value).strip().strip("\"'"))
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return year, month
    raise ValueError(f"{KEY}: {value!r} is not a year and month such as 2026-11")


def describe(year: int, month: int) -> str:
    """``(2026, 11)`` -> ``"November 2026"``."""
    return f"{MONTHS[month - 1]} {year}"


def front_matter(text: str) -> dict[str, str]:
    """The simple ``key: value`` lines of a page's front matter (no nesting needed here)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    found = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t", "#")):
            found[key.strip()] = value.strip()
    return found


def is_time_sensitive(relative: str | Path) -> bool:
    """Whether a page (path relative to the source root) must declare ``facts_checked``."""
    posix = Path(relative).as_posix()
    return any(posix.startswith(section + "/") for section in TIME_SENSITIVE_SECTIONS)


def _months_between(earlier: tuple[int, int], later: tuple[int, int]) -> int:
    return (later[0] * 12 + later[1]) - (earlier[0] * 12 + earlier[1])


def page_problem(
    relative: str | Path, text: str, today: dt.date, max_age_months: int = MAX_AGE_MONTHS
) -> str | None:
    """What is wrong with one page's ``facts_checked`` date on ``today``, or ``None``."""
    value = front_matter(text).get(KEY)
    if value is None:
        if is_time_sensitive(relative):
            sections = ", ".join(TIME_SENSITIVE_SECTIONS)
            return f"no {KEY} date in its front matter (every page under {sections} needs one)"
        return None
    try:
        checked = parse_checked(value)
    except ValueError as error:
        return str(error)
    age = _months_between(checked, (today.year, today.month))
    if age < 0:
        return f"{KEY} {value} is later than {today.isoformat()}"
    if age > max_age_months:
        return (
            f"facts last checked {describe(*checked)}, {age} months before "
            f"{today.isoformat()} (at most {max_age_months} allowed): re-check them and bump "
            f"{KEY}"
        )
    return None


def stale_pages(
    root: Path, today: dt.date, max_age_months: int = MAX_AGE_MONTHS
) -> list[tuple[Path, str]]:
    """Time-sensitive pages under ``root/docs`` whose facts need checking on ``today``.

    Each entry is the page's path relative to ``root`` and the problem found: no date (for a page
    in one of :data:`TIME_SENSITIVE_SECTIONS`), a value that is not a year and month, a date after
    ``today``, or one more than ``max_age_months`` months before it. Pure: the result depends on
    the files and the arguments only, never on the clock.
    """
    found = []
    for path in sorted((root / "docs").rglob("*.md")):
        relative = path.relative_to(root)
        if any(part.startswith(("_", ".")) for part in relative.parts):
            continue
        problem = page_problem(relative, path.read_text(encoding="utf-8"), today, max_age_months)
        if problem:
            found.append((relative, problem))
    return found


# --- Sphinx -----------------------------------------------------------------------------------


def add_checked_line(app, doctree) -> None:
    """Put "Facts checked: <Month YYYY>" under the title of a page that declares the key."""
    docname = app.env.docname
    value = app.env.metadata.get(docname, {}).get(KEY)
    if value is None:
        return
    from sphinx.util import logging

    try:
        year, month = parse_checked(value)
    except ValueError as error:
        logging.getLogger(__name__).warning(
            "%s", error, location=docname, type="mle_handbook", subtype="facts"
        )
        return
    line = nodes.paragraph("", "", classes=[CSS_CLASS])
    line += nodes.emphasis("", f"Facts checked: {describe(year, month)}")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, line)
    else:
        doctree.insert(0, line)


def setup(app) -> dict:
    # After Sphinx's metadata collector (priority 500) has moved the front matter to env.metadata.
    app.connect("doctree-read", add_checked_line, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    """``python -m mle_handbook.sphinxext.facts [ROOT] [--today YYYY-MM-DD]``: list stale pages."""
    args = list(sys.argv[1:] if argv is None else argv)
    today = dt.date.today()
    if "--today" in args:
        index = args.index("--today")
        today = dt.date.fromisoformat(args[index + 1])
        del args[index : index + 2]
    root = Path(args[0]) if args else Path.cwd()
    problems = stale_pages(root, today)
    for path, problem in problems:
        print(f"{path}: {problem}")
    if not problems:
        print(f"Every time-sensitive page was checked within {MAX_AGE_MONTHS} months of {today}.")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
