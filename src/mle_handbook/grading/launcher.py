"""Entry point of a grading kernel: set the process's limits, then become an ordinary IPython kernel.

The grader starts every kernel as::

    python -m mle_handbook.grading.launcher --memory-mb 4096 --file-mb 64 \\
        --read DIR ... --write DIR ... --device DIR ... -- -f CONNECTION_FILE [ipykernel options]

Limits are set with :func:`resource.setrlimit` in this process before ipykernel is imported, so
they bind the kernel and everything it starts:

- ``RLIMIT_AS`` (``--memory-mb``): address space; a submission that asks for more memory gets a
  ``MemoryError`` instead of slowing the machine down or waking the out-of-memory killer;
- ``RLIMIT_FSIZE`` (``--file-mb``): the largest file the kernel may write (``SIGXFSZ`` is ignored,
  so a write beyond it raises ``OSError`` rather than killing the kernel);
- ``RLIMIT_CORE`` 0: no core dumps of crashing submissions;
- with ``--read``/``--write``, Landlock file confinement (:mod:`mle_handbook.grading.confine`);
- with ``--own-group``, its own process group (for a kernel in its own namespace, :mod:`.isolation`).

The outcome of confinement is left in the environment variable ``MLE_HANDBOOK_CONFINED`` (the
Landlock ABI, or ``none``) for the grader's guard to report.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value if hard == resource.RLIM_INFINITY else hard))


def apply_limits(*, memory_mb: int | None, file_mb: int | None) -> None:
    if memory_mb:
        _limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    if file_mb:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _limit(resource.RLIMIT_FSIZE, file_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="mle_handbook.grading.launcher")
    parser.add_argument("--memory-mb", type=int, default=None)
    parser.add_argument("--file-mb", type=int, default=None)
    parser.add_argument("--read", action="append", default=[])
    parser.add_argument("--write", action="append", default=[])
    parser.add_argument("--device", action="append", default=[])
    parser.add_argument("--own-group", action="store_true")
    args = parser.parse_args(argv[:split])
    if args.own_group:
        # Inside its own namespace the kernel leads its process group, so that its interrupts
        # (sent as messages, see .kernel) reach it and what it started, never the namespace's
        # outer process.
        try:
            os.setpgid(0, 0)
        except OSError:
            pass  # already a session leader (bubblewrap's --new-session)
        # The grader is outside the namespace, so ipykernel would take its parent for dead;
        # the namespace itself ends with the grader (bubblewrap's --die-with-parent).
        os.environ.pop("JPY_PARENT_PID", None)
    apply_limits(memory_mb=args.memory_mb, file_mb=args.file_mb)
    confined = None
    if args.read or args.write:
        from .confine import confine

        confined = confine(args.read, args.write, args.device)
    os.environ["MLE_HANDBOOK_CONFINED"] = str(confined) if confined else "none"
    # What ipykernel_launcher does: the working folder is not an import location for the kernel
    # itself (IPython adds it back for the user's code).
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    sys.argv = ["ipykernel_launcher", *argv[split + 1 :]]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
