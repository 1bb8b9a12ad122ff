"""Sphinx extension: executes and checks every notebook, and decorates exercise pages.

Registered in ``conf.py`` as ``mle_handbook.sphinxext``. Everything goes through Sphinx's
documented events and settings; each module owns one job:

- :mod:`.tools`: sets up pandoc for nbsphinx and pybtex's plugins for the citations;
- :mod:`.execution`: hands the notebooks Sphinx is about to read to :mod:`mle_handbook.runner`
  (executed in parallel, or taken from the execution cache, while the prose is read), reports
  failures in one readable block per notebook, and gives nbsphinx the executed copy;
- :mod:`.pages`: pure notebook-to-notebook decorations of notebook pages (collapsed solutions and
  check helpers, points, the page summary, download links);
- :mod:`.launch`: "Open on Binder" and "Open in Colab" links, from the repository URL;
- :mod:`.anchors`: gives notebook sections anchors every script can select;
- :mod:`.alt_text`: gives figures drawn by notebook cells the alt text their metadata holds;
- :mod:`.downloads`: writes the student and full notebooks next to the built site;
- :mod:`.epub`: keeps the EPUB to its pages, as well-formed XHTML;
- :mod:`.facts`: shows when a page's time-sensitive facts were last checked.
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx

from . import alt_text, anchors, downloads, epub, execution, launch, tools

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"


def _add_static_and_templates(app: Sphinx, config) -> None:
    """The extension's CSS, JavaScript and layout, by paths relative to the project (Sphinx
    records settings in the published ``.buildinfo``: no machine's folder goes there)."""
    config.html_static_path.append(os.path.relpath(STATIC, app.confdir))
    config.templates_path.append(os.path.relpath(TEMPLATES, app.confdir))


def setup(app: Sphinx) -> dict:
    app.setup_extension("mle_handbook.sphinxext.facts")
    app.add_config_value("mle_handbook_timeout", 180, "env", types=[int])
    app.add_config_value("mle_handbook_jobs", 2, "", types=[int])
    app.add_config_value("mle_handbook_cache_dir", "", "", types=[str])
    # "env": the Binder/Colab links are part of each notebook page's source, made when it is read.
    app.add_config_value("mle_handbook_repository_url", "", "env", types=[str])
    app.add_config_value("mle_handbook_repository_branch", "main", "env", types=[str])

    app.connect("config-inited", tools.make_pandoc_visible)
    app.connect("config-inited", tools.register_bibtex_plugins)
    app.connect("config-inited", _add_static_and_templates)
    app.connect("config-inited", launch.check_repository_url)
    app.connect("env-get-outdated", execution.failed_notebooks_are_outdated)
    app.connect("env-before-read-docs", execution.start_notebooks)
    app.connect("env-merge-info", execution.merge_failed)
    app.connect("source-read", execution.use_executed_notebook)
    app.connect("env-updated", execution.finish_reading)
    app.connect("doctree-read", alt_text.add_alt_text)
    # Before Sphinx's table-of-contents collector (priority 500) reads the section ids.
    app.connect("doctree-read", anchors.add_selectable_ids, priority=400)
    app.connect("html-collect-pages", epub.exclude_copied_notebooks)
    app.connect("html-page-context", epub.close_tab_inputs)
    app.connect("build-finished", downloads.write_notebook_downloads)
    app.connect("build-finished", execution.stop_runner, priority=900)  # after the downloads
    app.add_css_file("mle-handbook.css")
    app.add_js_file("mle-handbook.js", priority=600)  # after Sphinx's translations.js (500)
    return {
        "version": "1",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
        "env_version": 1,
    }
