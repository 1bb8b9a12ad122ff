"""Entry point of a grading kernel: set the process's limits, then become an ordinary IPython kernel.

The grader starts every kernel as ``python -m mle_handbook.grading.launcher [options] --
[ipykernel options]`` (:meth:`.kernel.Kernel._argv`). The limits are set in this process before
ipykernel is imported, so they bind the kernel and everything it starts: ``RLIMIT_AS`` (a
submission asking for too much memory gets a ``MemoryError`` rather than waking the out-of-memory
killer), ``RLIMIT_FSIZE`` (``SIGXFSZ`` ignored, so an over-long write raises ``OSError`` rather
than killing the kernel) and no core dumps. Landlock (:func:`confine`, unprivileged, Linux 5.13 and
later; ``ctypes`` for its three system calls) keeps a submission from reading the source exercise
or writing where the results go; its ABI, or ``none``, is left in ``MLE_HANDBOOK_CONFINED`` for the
grader to report.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
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


# System call numbers are the same on every Linux architecture for these recent calls.
_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
_WRITE_RIGHTS_ABI1 = sum(1 << bit for bit in range(4, 13))  # remove, make dir/file/sock/fifo/sym...
_REFER = 1 << 13
_TRUNCATE = 1 << 14
_IOCTL_DEV = 1 << 15
#: Rights added by later Landlock ABIs, with the ABI that added them.
_LATER_RIGHTS = ((2, _REFER), (3, _TRUNCATE), (5, _IOCTL_DEV))

READ = EXECUTE | READ_FILE | READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The Landlock ABI the running kernel offers (0 when it offers none)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(
            _SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION
        )
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def confine(read: list[str], write: list[str], devices: list[str] = ()) -> int | None:
    """Restrict this process to ``read`` (read and execute) and ``write`` (everything) folders.

    ``devices`` are folders whose existing files may be read and written but where nothing may be
    created or removed (``/dev``: writing to ``/dev/null`` is ordinary).

    Returns the Landlock ABI version used, or None when Landlock is unavailable (nothing changed).
    Folders that do not exist are skipped. Raises OSError if Landlock exists but a call fails.
    """
    abi = abi_version()
    if abi < 1:
        return None
    libc = _libc()
    handled = READ | WRITE_FILE | _WRITE_RIGHTS_ABI1
    handled |= sum(right for needs, right in _LATER_RIGHTS if abi >= needs)
    attr = _RulesetAttr(handled)
    ruleset = libc.syscall(
        _SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0
    )
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        device_rights = READ | WRITE_FILE | _TRUNCATE | _IOCTL_DEV
        for paths, rights in ((read, READ), (devices, device_rights), (write, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    # A rule on a file (not a folder) may only carry file rights.
                    allowed = rights
                    if not os.path.isdir(path):
                        allowed &= EXECUTE | READ_FILE | WRITE_FILE | _TRUNCATE | _IOCTL_DEV
                    rule = _PathBeneathAttr(allowed & handled, fd)
                    if libc.syscall(
                        _SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0
                    ):
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


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
        with contextlib.suppress(OSError):  # already a session leader (bubblewrap's --new-session)
            os.setpgid(0, 0)
        # The grader is outside the namespace, so ipykernel would take its parent for dead;
        # the namespace itself ends with the grader (bubblewrap's --die-with-parent).
        os.environ.pop("JPY_PARENT_PID", None)
    apply_limits(memory_mb=args.memory_mb, file_mb=args.file_mb)
    confined = None
    if args.read or args.write:
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
