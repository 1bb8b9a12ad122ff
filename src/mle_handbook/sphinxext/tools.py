"""Make the build's external tools visible: pandoc for nbsphinx's Markdown cells."""

from __future__ import annotations

import os
import shutil

from sphinx.errors import ConfigError


def make_pandoc_visible(app, config) -> None:
    """Prepend pypandoc-binary's pandoc directory to PATH unless a pandoc is already there."""
    if shutil.which("pandoc"):
        return
    try:
        import pypandoc
    except ImportError as exc:
        raise ConfigError(
            "nbsphinx needs pandoc: install the locked environment (`make html` does) or pandoc itself"
        ) from exc
    pandoc_dir = os.path.dirname(pypandoc.get_pandoc_path())
    os.environ["PATH"] = pandoc_dir + os.pathsep + os.environ.get("PATH", "")
