"""``sphinx-build`` that exits as soon as the build is done: what ``make html`` and ``make epub`` run.

When Sphinx returns, the interpreter would spend about a second (1.2 s on 2 cores, with this
handbook) freeing the build's hundreds of thousands of objects one by one before the process
ends; nothing is left to write by then (Sphinx has closed its files and its warning file, the
notebooks' kernels and the Spark server are stopped). So this runs Sphinx's own command line,
flushes the console streams and ends the process with Sphinx's exit status, skipping that
teardown. Every argument is Sphinx's; an exception propagates as usual.

    python -m mle_handbook.sphinx_build -b html -n -W . _build/html
"""

from __future__ import annotations

import os
import sys


def jobs() -> int:
    """Sphinx writes pages in (jobs - 1) worker processes while its main process hands them out
    and collects them, so one job more than there are cores keeps every core writing (see the
    Makefile's JOBS)."""
    return (os.cpu_count() or 1) + 1


#: What ``make html`` passes to Sphinx besides the builder and folders: warnings are errors, all
#: of them reported in one build, pages read and written by :func:`jobs` processes.
FLAGS = ("-n", "-W", "--keep-going", "-j", str(jobs()))


def main(argv: list[str] | None = None) -> int:
    import gc

    # Importing Sphinx makes some 100,000 objects that live as long as the process; automatic
    # collections meanwhile only walk them again (0.03 s of the start-up, while every other core
    # waits). The collector is left as it was: the extension decides what a build does with it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        from sphinx.cmd.build import main as sphinx_main
    finally:
        if enabled:
            gc.enable()

    sys.argv[0] = "sphinx-build"  # the name its usage and error messages give
    return sphinx_main(sys.argv[1:] if argv is None else argv)


#: Set by :func:`run_and_exit`: the process ends when the build does, so nothing needs tidying
#: for later (see :func:`mle_handbook.sphinxext.collection.resume`).
exits_after_build = False


def run_and_exit(argv: list[str] | None = None) -> None:
    """Run :func:`main` and end the process with its status, without interpreter teardown."""
    global exits_after_build  # noqa: PLW0603 - one flag for the life of the process
    exits_after_build = True
    status = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    run_and_exit()
