"""Isolation of each grading kernel by the operating system: its own PID namespace and network.

Three levels, the first available is used (:func:`level`):

``bubblewrap``
    ``bwrap`` (Debian's ``bubblewrap`` package, the sandbox Flatpak uses): a new PID namespace with
    its own ``/proc``, a new network namespace (loopback only), a new IPC namespace and a private
    ``/dev/shm``. The kernel cannot see, signal or ptrace the grader or other students' kernels,
    cannot reach the network, and everything it starts, in any session, is killed when its
    namespace's first process ends: the grader kills that process at the end of each grading.
``unshare``
    util-linux's ``unshare``: the same PID, network and IPC namespaces (as root, or in a user
    namespace where the system allows them); ``/dev/shm`` stays shared.
``none``
    Neither works (macOS, Windows, containers without namespaces): the grader says so once per
    run, refuses to run code that reaches into processes, signals or the kernel's messaging (see
    :mod:`.reach`), and runs one kernel at a time with none started ahead, so that one submission
    still cannot harm another.

A Spark exercise keeps the network (its kernels must reach the run's Spark Connect server).
Each level is tried once per process with a trivial command, so a ``bwrap`` that exists but is
not allowed to make namespaces falls back to the next level.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

#: What each level protects against, for the summary and the guide.
PROTECTS = {
    "bubblewrap": "own PID namespace and /proc, no network, private /dev/shm",
    "unshare": "own PID namespace and /proc, no network",
    "none": "no OS isolation: code that reaches processes or the kernel's messaging is not run, "
    "one kernel at a time",
}


def _works(argv: list[str]) -> bool:
    try:
        done = subprocess.run(
            [*argv, sys.executable, "-c", "pass"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _bwrap(network: bool) -> list[str] | None:
    path = shutil.which("bwrap")
    if path is None:
        return None
    argv = [path, "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session"]
    argv += [] if network else ["--unshare-net"]
    # The whole file system as it is (Landlock narrows it), with a /proc of the new namespace and
    # a /dev/shm of its own.
    argv += ["--dev-bind", "/", "/", "--proc", "/proc", "--tmpfs", "/dev/shm", "--"]
    return argv


def _unshare(network: bool) -> list[str] | None:
    path = shutil.which("unshare")
    if path is None:
        return None
    argv = [path, "--pid", "--ipc", "--fork", "--kill-child", "--mount-proc"]
    argv += [] if network else ["--net"]
    if os.geteuid() != 0:
        argv.append("--map-root-user")
    return [*argv, "--"]


def choose(*, network: bool = False, wanted: bool | str | None = None) -> tuple[str, list[str]]:
    """The isolation level kernels get on this machine (``bubblewrap``, ``unshare`` or ``none``):
    the first that works, or only ``wanted`` (``none`` when it does not work here, or when
    ``wanted`` is False); and the command line that runs a kernel at that level."""
    name, argv = _choice(network, None if wanted in (None, True) else wanted)
    return name, list(argv)


@functools.cache
def _choice(network: bool, wanted: str | bool | None) -> tuple[str, tuple[str, ...]]:
    if sys.platform.startswith("linux"):
        for name, make in (("bubblewrap", _bwrap), ("unshare", _unshare)):
            if wanted not in (None, name):
                continue
            argv = make(network)
            if argv and _works(argv):
                return name, tuple(argv)
    return "none", ()


def level(*, network: bool = False, wanted: bool | str | None = None) -> str:
    """The level :func:`choose` chooses."""
    return choose(network=network, wanted=wanted)[0]


#: The one-time warning for a run without OS isolation.
NOTICE = (
    "warning: kernels are not isolated by the operating system (neither bubblewrap nor "
    "unshare can make namespaces here): submissions whose code reaches into processes, "
    "signals or the kernel's messaging are not run and get status review, and one "
    "submission is graded at a time; install bubblewrap (apt install bubblewrap) for full "
    "isolation"
)
