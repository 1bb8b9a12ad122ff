"""Release exercises to a class, then grade its submissions: fairly, in parallel, with feedback.

One module per job:

- :mod:`.release` writes the student notebooks, zips and an nbgrader course;
- :mod:`.submissions` finds the submissions in a folder or zip and each one's student id;
- :mod:`.assemble` builds the notebook that runs: the source exercise's cells (test cells with their
  hidden tests) around the student's answers, matched by ``grade_id``; :mod:`.analysis` reads
  cells without running them;
- :mod:`.prepare` reads a submission before it runs; :mod:`.reach` finds code that reaches the
  kernel's messaging, the guard or processes (status ``review``) and off-limits calls; :mod:`.scan`
  flags constructs worth a look;
- :mod:`.sandbox` (scratch folder, limits), :mod:`.isolation` (namespaces), :mod:`.launcher` and
  :mod:`.confine` (Landlock) make the kernel's world; :mod:`.kernel` and :mod:`.outputs` talk to
  it; :mod:`.pool` starts kernels ahead; :mod:`.guard` (with :mod:`.guard_snapshot`) runs inside it;
- :mod:`.session` runs one kernel's cells and decides each check; :mod:`.runner` restarts and
  retries until the submission is done;
- :mod:`.results` turns that into marks and statuses; :mod:`.report` writes the CSVs and
  :mod:`.feedback` the students' pages;
- :mod:`.run` ties them together: :func:`grade`; :mod:`.nbgrader` drives nbgrader's own commands
  for a second opinion.
"""

from __future__ import annotations

__all__ = ["grade"]


def __getattr__(name: str):
    if name == "grade":
        from .run import grade

        return grade
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
