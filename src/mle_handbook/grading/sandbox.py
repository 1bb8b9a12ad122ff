"""The world of each grading kernel: a private scratch folder, the limits a submission runs
under, and its isolation by the operating system.

:class:`Scratch` makes a private temporary folder (outside the course folder, with a random name)
with the exercise's declared data files in ``work/`` (the kernel's working folder) and private
``home/``, ``tmp/`` and ``run/`` (connection file and sockets) folders; it never contains the source
exercise or the submission file. :class:`Limits` says what one submission may use;
:func:`read_roots` which folders a Landlock-confined kernel may read. The kernel itself is
:mod:`.kernel`'s.

**Isolation** by the operating system: :func:`choose` takes the first level that works of
``bubblewrap``, ``unshare`` and ``none`` (the instructors' guide, "Isolation by the operating
system", says what each protects against and what a run without isolation does instead). Each
level is tried once per process with a trivial command, so a ``bwrap`` that exists but may not
make namespaces falls back to the next level.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Every default can be changed from ``mle-handbook grade``."""

    timeout: float = 60.0  # seconds per cell
    memory_mb: int | None = 4096  # address space of the kernel process (RLIMIT_AS)
    file_mb: int | None = 64  # largest file the kernel may write (RLIMIT_FSIZE)
    max_output_chars: int = 20_000_000  # output received per kernel before it is stopped
    startup_timeout: float = 120.0
    #: After a timeout, how long an interrupted cell may take to stop before the kernel is killed.
    interrupt_grace: float = 5.0
    #: Restrict the kernel's file access with Landlock when available.
    confine: bool = True
    #: Run the kernel in its own PID, network and IPC namespaces when available (see above);
    #: False for no isolation, or a level's name (``"unshare"``) for that level only.
    isolate: bool | str = True
    #: Keep the network (a Spark exercise's kernels must reach the Spark Connect server).
    network: bool = False


#: Environment variables passed to kernels; everything else (tokens, paths of the course, the
#: shell's working folder) is left out.
_PASSED_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "JAVA_HOME")
_PASSED_PREFIXES = ("LC_", "SPARK_", "PYSPARK_")
#: One thread per numerical library per kernel: kernels run side by side, one per core.
_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


class Scratch:
    """A private folder for one kernel: ``work/`` (the data files), ``home/``, ``tmp/``, ``run/``."""

    def __init__(self, data: dict[str, Path] | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="mle-grade-"))
        self.work, self.home, self.tmp, self.run = (
            self.root / name for name in ("work", "home", "tmp", "run")
        )
        for folder in (self.work, self.home, self.tmp, self.run):
            folder.mkdir(mode=0o700)
        for name, source in (data or {}).items():
            target = self.work / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k in _PASSED_VARIABLES or k.startswith(_PASSED_PREFIXES)
        }
        env.update(
            HOME=str(self.home),
            TMPDIR=str(self.tmp),
            MPLCONFIGDIR=str(self.home / ".matplotlib"),
            IPYTHONDIR=str(self.home / ".ipython"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            PYTHONDONTWRITEBYTECODE="1",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
            MALLOC_ARENA_MAX="2",
        )
        env.update(dict.fromkeys(_THREADS, "1"))
        env.update(extra or {})
        return env

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def read_roots(hidden: list[Path]) -> list[str]:
    """Folders a confined kernel may read: the system's and Python's, minus any holding ``hidden``.

    A folder is dropped if one of ``hidden`` (the source exercise, the submissions, the results)
    lies inside it: the kernel must not be able to read them.
    """
    candidates = [
        Path(p) for p in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt")
    ]
    candidates += [Path(p) for p in ("/proc", "/sys", "/run", "/var/lib", "/snap", "/nix")]
    candidates += [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    candidates += [Path(p) for p in site.getsitepackages() + [site.getusersitepackages()]]
    # Where this package and the kernel's own packages are installed (an editable install of
    # the handbook lives outside site-packages).
    import ipykernel

    for module in (sys.modules[__name__.split(".")[0]], ipykernel):
        candidates.append(Path(module.__file__).resolve().parent.parent)
    hidden = [p.resolve() for p in hidden]
    roots = []
    for path in candidates:
        try:
            path = path.resolve()
        except OSError:
            continue
        if not path.exists() or any(h == path or path in h.parents for h in hidden):
            continue
        if str(path) not in roots:
            roots.append(str(path))
    return roots


# -- isolation -----------------------------------------------------------------------------------

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


@functools.cache
def choose(*, network: bool = False, wanted: bool | str = True) -> tuple[str, tuple[str, ...]]:
    """The isolation level kernels get on this machine (``bubblewrap``, ``unshare`` or ``none``):
    the first that works, or only ``wanted`` (``none`` when it does not work here, or when
    ``wanted`` is False); and the command line that runs a kernel at that level."""
    if sys.platform.startswith("linux"):
        for name, make in (("bubblewrap", _bwrap), ("unshare", _unshare)):
            if wanted not in (True, name):
                continue
            argv = make(network)
            if argv and _works(argv):
                return name, tuple(argv)
    return "none", ()


#: The one-time warning for a run without OS isolation.
NOTICE = (
    "warning: kernels are not isolated by the operating system (neither bubblewrap nor "
    "unshare can make namespaces here): submissions whose code reaches into processes, "
    "signals or the kernel's messaging are not run and get status review, and one "
    "submission is graded at a time; install bubblewrap (apt install bubblewrap) for full "
    "isolation"
)
