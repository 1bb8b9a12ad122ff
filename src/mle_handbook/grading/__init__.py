"""Grade a class's submissions of one exercise: fairly, in parallel, and with feedback.

One module per job:

- :mod:`.submissions` finds the submissions in a folder or zip and each one's student id;
- :mod:`.assemble` builds the notebook that runs: the source exercise's cells (test cells with their
  hidden tests) around the student's answers, matched by ``grade_id``;
- :mod:`.sandbox` runs it in a fresh, limited kernel in a scratch folder; :mod:`.launcher` and
  :mod:`.confine` set the kernel's limits; :mod:`.guard` runs inside the kernel;
- :mod:`.runner` drives the kernel cell by cell and decides which checks passed;
- :mod:`.results` turns that into marks and statuses; :mod:`.report` writes the CSVs and feedback;
- :mod:`.run` ties them together: :func:`grade`.

This package's ``__init__`` imports nothing heavy: the kernel launcher is imported in every grading
kernel.
"""

from __future__ import annotations

__all__ = ["grade"]


def __getattr__(name: str):
    if name == "grade":
        from .run import grade

        return grade
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
