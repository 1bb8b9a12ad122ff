"""Confine a process's file access with Linux Landlock, where the kernel offers it.

After :func:`confine`, the process and everything it starts can read (and run) files only beneath
the ``read`` folders and read and write only beneath the ``write`` folders. The grader applies it to
each grading kernel before any submitted code runs, so that a submission cannot read the source
exercise (solutions and hidden tests) or write where the results go. Landlock needs no privileges;
it exists on Linux 5.13 and later when enabled (most current distributions). Elsewhere
:func:`confine` returns ``None`` and the grader says so in its summary.

Only the standard library is used (``ctypes`` for the three system calls).
"""

from __future__ import annotations

import ctypes
import os
import sys

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
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3
_IOCTL_DEV = 1 << 15  # ABI 5

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


def _all_rights(abi: int) -> int:
    rights = READ | WRITE_FILE | _WRITE_RIGHTS_ABI1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


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
    handled = _all_rights(abi)
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
