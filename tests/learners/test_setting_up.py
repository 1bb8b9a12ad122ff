"""The learners' guide says exactly which packages differ between the Pythons the lock serves."""

from __future__ import annotations

import re

from conftest import ROOT
from packaging.markers import Marker

PAGE = ROOT / "docs" / "learners" / "setting-up.md"
#: One release of each Python the guide's table has a column for (3.11.5+: see soupsieve's marker),
#: and the newest, which must get what the last column says.
COLUMNS = {"3.10": "3.10.12", "3.11": "3.11.9", "3.12": "3.12.8", "3.13": "3.13.5"}
NEWEST = "3.14.0"


def locked_versions(python: str) -> dict[str, str]:
    """``{package: version}`` that requirements.lock installs on Linux with this Python."""
    environment = {
        "python_full_version": python,
        "python_version": python.rsplit(".", 1)[0],
        "implementation_name": "cpython",
        "sys_platform": "linux",
        "os_name": "posix",
    }
    found = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)(?:\s*;\s*(.*))?$", line)
        if pin and (pin[3] is None or Marker(pin[3]).evaluate(environment)):
            found[pin[1]] = pin[2]
    return found


def page_table() -> dict[str, list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(
        r"^:::\{dropdown\} Every package whose version depends.*?^:::$", text, re.M | re.S
    )
    assert block, "setting-up.md has no table of the packages that differ by Python"
    rows = re.findall(r"^\| ([a-z0-9_.\-]+) \| (.+) \|$", block.group(0), re.M)
    return {name: [cell.strip() for cell in cells.split("|")] for name, cells in rows}


def test_the_guides_table_lists_exactly_the_packages_that_differ_by_python():
    by_python = [locked_versions(full) for full in COLUMNS.values()]
    names = sorted(set().union(*by_python))
    expected = {}
    for name in names:
        row = [versions.get(name, "not installed") for versions in by_python]
        if len(set(row)) > 1:
            expected[name] = row
    assert page_table() == expected
    assert locked_versions(NEWEST) == by_python[-1], "the last column no longer covers 3.14"
