"""Writing files safely: the project's one atomic-write helper.

Everything the handbook writes for a user (notebooks in ``work/``, grade sheets, feedback, build
results, Spark's settings) goes to a temporary file in the same folder, which then replaces the
target in one step, so a crash or a full disk never leaves half a file, and an error never
clobbers what was there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` (creating its folder) through a temporary file. The file gets
    ``mode``, or keeps the permissions of the one it replaces, or gets ``rw-r--r--`` (temporary
    files are private)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """:func:`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))
