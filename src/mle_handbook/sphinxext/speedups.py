"""Remove two third-party hot spots from every build (found, and timed, with cProfile).

- nbsphinx converts each Markdown cell to reST by running pandoc twice (about 30 ms a cell, some
  3 s a build). With an execution cache configured (``mle_handbook_cache_dir``), conversions are
  kept next to it, keyed by the cell's text and the pandoc and nbsphinx versions, so a cached
  clean build starts no pandoc at all. Without a cache (``make test``, CI) pandoc runs as usual.
- sphinxcontrib-bibtex asks pybtex for its plain-text backend once per citation, and pybtex
  looks the plugin up in the installed packages' entry points each time (about 30 ms each, over
  6 s for this handbook's citations). The entry points cannot change during a build, so the
  lookups are remembered for the life of the process.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def remember_pybtex_plugins(app, config) -> None:
    """Make ``pybtex.plugin.find_plugin`` look each plugin up once per process."""
    try:
        import pybtex.plugin
    except ImportError:  # sphinxcontrib-bibtex not in use
        return
    if not hasattr(pybtex.plugin.find_plugin, "cache_info"):
        pybtex.plugin.find_plugin = functools.lru_cache(maxsize=None)(pybtex.plugin.find_plugin)


def memoise_markdown_conversion(app, config) -> None:
    """Keep nbsphinx's Markdown-to-reST conversions in the execution cache's folder."""
    if not config.mle_handbook_cache_dir:
        return
    import nbsphinx

    convert = getattr(nbsphinx.markdown2rst, "__wrapped__", nbsphinx.markdown2rst)
    folder = Path(app.srcdir) / config.mle_handbook_cache_dir / "markdown2rst"
    nbsphinx.markdown2rst = memoised(convert, folder, salt=_versions())


def memoised(convert, folder: Path, salt: str):
    """``convert`` (a pure str -> str function) whose results are kept as files in ``folder``."""

    @functools.wraps(convert)
    def wrapper(text: str) -> str:
        key = hashlib.sha256(f"{salt}\0{text}".encode()).hexdigest()
        path = folder / key[:2] / f"{key}.rst"
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # not there yet, or unreadable: convert again
            pass
        result = convert(text)
        _write_atomically(path, result)
        return result

    return wrapper


def _write_atomically(path: Path, text: str) -> None:
    """Write so that parallel builds never read a half-written file; a cache that cannot be
    written (read-only disk) only costs speed, so it is logged, not raised."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        logger.info("could not keep a Markdown conversion in %s: %s", path.parent, exc)


def _versions() -> str:
    import nbconvert.utils.pandoc
    import nbsphinx

    return f"nbsphinx {nbsphinx.__version__}; pandoc {nbconvert.utils.pandoc.get_pandoc_version()}"
