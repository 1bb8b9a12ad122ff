"""The locked environment: notebooks are validated without jsonschema's slow IRI checker."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from conftest import ROOT

CHECK = """
import nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
nbformat.validate(nb)
nb.cells[0]["cell_type"] = "weird"
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("invalid notebook reported")
"""


def test_lock_leaves_out_the_iri_checker_that_takes_seconds_to_import():
    # jsonschema imports rfc3987-syntax, when installed, for "iri" formats no Jupyter schema
    # uses; it compiles 38 grammars on import (about 2.8 s per process on 2 cores).
    lock = (ROOT / "requirements.lock").read_text()
    assert "\nrfc3987-syntax==" not in lock and "--no-emit-package rfc3987-syntax" in lock
    assert importlib.util.find_spec("rfc3987_syntax") is None


def test_notebooks_are_still_validated_without_it():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["invalid notebook reported"]
