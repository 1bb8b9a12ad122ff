"""Set up the third-party tools the build uses, through their documented doors: pandoc for
nbsphinx's Markdown cells, and pybtex's plugins for sphinxcontrib-bibtex's citations."""

from __future__ import annotations

import os
import shutil

import pybtex.plugin
from sphinx.errors import ConfigError

#: The pybtex plugins sphinxcontrib-bibtex looks up by name while resolving each citation.
BIBTEX_PLUGINS = [("pybtex.backends", "plaintext")]


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


def register_bibtex_plugins(app, config) -> None:
    """Register, with pybtex's public ``register_plugin``, the very plugin classes pybtex finds.

    sphinxcontrib-bibtex asks pybtex for the ``plaintext`` backend by name once per citation, and
    pybtex answers a by-name request by scanning every installed package's entry points (about
    20 ms in the project's environment). A registered plugin is answered from pybtex's own table
    instead: 6.5 of a 19 CPU-s writing phase went to those scans (323 citations, cProfile).
    """
    for group, name in BIBTEX_PLUGINS:
        plugin = pybtex.plugin.find_plugin(group, name)
        pybtex.plugin.register_plugin(group, name, plugin, force=True)
