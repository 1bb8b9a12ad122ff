"""Reading and writing notebook files safely (atomic writes, never clobbering on error)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from .exercises.student import clear_outputs, student_version
from .files import write_text_atomic


def write_atomic(nb: nbformat.NotebookNode, path: str | Path) -> None:
    """Write ``nb`` to ``path`` through a temporary file, so a crash never leaves half a notebook."""
    text = nbformat.writes(nb)
    write_text_atomic(path, text if text.endswith("\n") else text + "\n")  # as nbformat.write


def clear_file(path: str | Path) -> bool:
    """Remove outputs from a notebook file in place; True if anything changed."""
    nb = nbformat.read(path, as_version=4)
    cleared = clear_outputs(nb)
    if cleared == nb:
        return False
    write_atomic(cleared, path)
    return True


def write_student_version(source: str | Path, output: str | Path) -> None:
    write_atomic(student_version(nbformat.read(source, as_version=4)), output)
