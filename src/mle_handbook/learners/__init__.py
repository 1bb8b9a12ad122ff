"""A learner's own working folder: ``mle-handbook start`` (:mod:`.start`) fills it without
overwriting a file the learner changed, ``mle-handbook progress`` (:mod:`.progress`) runs copies of
its exercises and reports each check."""
