"""A learner's own working folder: ``mle-handbook start`` fills it, ``mle-handbook progress`` reads it.

- :mod:`.start`: copies student versions of the exercises and cleared copies of the worked
  notebooks (with their data files) into ``work/``, never overwriting a file the learner changed;
- :mod:`.progress`: runs copies of the learner's exercises and reports each check.
"""
