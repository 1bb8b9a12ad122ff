"""Release exercises to a class, then grade its submissions: fairly, in parallel, with feedback.

One module per job:

- :mod:`.release` writes the student notebooks, zips and an nbgrader course;
- :mod:`.submissions` finds the submissions in a folder or zip and each one's student id;
- :mod:`.assemble` builds the notebook that runs: the source exercise's cells (test cells with their
  hidden tests) around the student's answers, matched by ``grade_id``; :mod:`.analysis` reads
  cells without running them;
- :mod:`.prepare` reads a submission before it runs (off-limits calls too); :mod:`.reach` finds
  code that reaches the kernel's messaging, the guard or processes (status ``review``), and
  constructs worth a look (the ``flags`` column);
- :mod:`.sandbox` (scratch folder, limits, namespaces) and :mod:`.launcher` (rlimits, Landlock)
  make the kernel's world; :mod:`.kernel` talks to it; :mod:`.guard` (with
  :mod:`.guard_snapshot`) runs inside it;
- :mod:`.session` runs one kernel's cells and decides each check; :mod:`.runner` starts kernels
  ahead, restarts and retries until the submission is done;
- :mod:`.results` turns that into marks; :mod:`.report` writes the CSVs and the students'
  feedback pages;
- :mod:`.run` ties them together: :func:`~.run.grade`.
"""
