"""Release exercises to a class, then grade its submissions: fairly, in parallel, with feedback.

In the order a run uses them: :mod:`.release`; :mod:`.submissions` (files and student ids);
:mod:`.prepare` (with :mod:`.assemble`, :mod:`.analysis`, :mod:`.reach`); :mod:`.sandbox` and
:mod:`.launcher` (the kernel's world), :mod:`.kernel`, :mod:`.guard` (inside the kernel);
:mod:`.session` and :mod:`.runner` (running a submission); :mod:`.results` and :mod:`.report`
(marks, sheets, feedback). :func:`.run.grade` ties them together.
"""
