"""Importing the package keeps jsonschema's unused format checkers out of every process."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import mle_handbook
import nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
nbformat.validate(nb)
nb.cells[0]["cell_type"] = "weird"
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("invalid notebook reported")
print(sorted(m for m in ("arrow", "isoduration", "rfc3986_validator", "rfc3339_validator",
      "rfc3987_syntax", "lark") if sys.modules.get(m) is not None))
"""


def test_notebooks_are_validated_without_loading_format_checkers():
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["invalid notebook reported", "[]"]
