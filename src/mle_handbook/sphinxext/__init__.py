"""Sphinx extension: executes and checks every notebook, and decorates exercise pages.

Registered in ``conf.py`` as ``mle_handbook.sphinxext``. Each module owns one phase:

- :mod:`.collection`: explicit garbage collections instead of automatic ones while building;
- :mod:`.tools`: makes pandoc (from pypandoc-binary) visible to nbsphinx;
- :mod:`.speedups`: removes third-party hot spots (pandoc runs, highlighting, pybtex plugin look-ups,
  template compilation, for notebooks and for pages);
- :mod:`.parsing`: removes docutils hot spots from reading pages (smart quotes, default settings);
- :mod:`.traversal`: walks doctrees with one generator per walk, not one per node;
- :mod:`.scheduling`: shares reading and writing among Sphinx's processes by the pages' sizes;
- :mod:`.resolving`: Sphinx's writer processes resolve their own pages;
- :mod:`.pandoc_batch`: converts each notebook's Markdown cells in two pandoc runs, not two a cell;
- :mod:`.execution`: executes the notebooks Sphinx is about to read, in parallel, reports failures
  in one readable block per notebook, and hands nbsphinx the executed copy;
- :mod:`.pages`: pure notebook-to-notebook decorations of exercise pages (collapsed solutions,
  points, the page summary, download links);
- :mod:`.launch`: "Open on Binder" and "Open in Colab" links, from the repository URL;
- :mod:`.alt_text`: gives figures drawn by notebook cells the alt text their metadata holds;
- :mod:`.downloads`: writes the student and full notebooks next to the built site;
- :mod:`.epub`: keeps the EPUB to its pages, as well-formed XHTML.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from . import (
    alt_text,
    collection,
    downloads,
    epub,
    execution,
    launch,
    pandoc_batch,
    parsing,
    resolving,
    scheduling,
    speedups,
    tools,
    traversal,
)

STATIC = Path(__file__).parent / "static"


def _add_static_path(app: Sphinx, config) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    # First, so that loading the other extensions runs without automatic collections too.
    collection.pause(app)
    speedups.read_entry_points_once()  # before the other extensions look their plugins up
    app.add_config_value("mle_handbook_timeout", 180, "env", types=[int])
    app.add_config_value("mle_handbook_jobs", 2, "", types=[int])
    app.add_config_value("mle_handbook_cache_dir", "", "", types=[str])
    # "env": the Binder/Colab links are part of each notebook page's source, made when it is read.
    app.add_config_value("mle_handbook_repository_url", "", "env", types=[str])
    app.add_config_value("mle_handbook_repository_branch", "main", "env", types=[str])

    app.connect("config-inited", collection.freeze, priority=900)  # once the others are loaded
    app.connect("config-inited", tools.make_pandoc_visible)
    # After make_pandoc_visible: the conversion cache's key names the pandoc version.
    app.connect("config-inited", speedups.memoise_markdown_conversion, priority=600)
    app.connect("config-inited", speedups.memoise_highlighting)
    app.connect("config-inited", speedups.memoise_sidebar_navigation)
    app.connect("config-inited", speedups.check_only_templates_that_may_be_empty)
    app.connect("config-inited", speedups.memoise_inventories)
    app.connect("config-inited", speedups.remember_pybtex_plugins)
    app.connect("config-inited", speedups.memoise_bibliography, priority=450)  # under the next
    app.connect("config-inited", speedups.memoise_citations)
    app.connect("config-inited", speedups.format_entries_once)
    app.connect("config-inited", speedups.decode_latex_once)
    app.connect("config-inited", speedups.share_notebook_templates)
    app.connect("config-inited", speedups.validate_notebooks_once)
    app.connect("config-inited", speedups.memoise_notebook_export)
    app.connect("config-inited", speedups.memoise_notebook_schema)
    app.connect("config-inited", pandoc_batch.use_batched_pandoc)
    app.connect("config-inited", speedups.lighten_reader_environments)
    app.connect("config-inited", parsing.quote_only_where_needed)
    app.connect("config-inited", parsing.remember_default_settings)
    app.connect("config-inited", parsing.make_states_lazily)
    app.connect("config-inited", traversal.walk_iteratively)
    app.connect("config-inited", _add_static_path)
    app.connect("config-inited", launch.check_repository_url)
    # Before the other extensions' builder-inited work (bibliographies, inventories).
    app.connect("builder-inited", execution.start_notebooks_early, priority=100)
    app.connect("builder-inited", speedups.keep_compiled_page_templates)
    app.connect("builder-inited", scheduling.share_by_size)
    app.connect("builder-inited", resolving.resolve_in_writers)
    app.connect("env-get-outdated", execution.failed_notebooks_are_outdated)
    app.connect("env-before-read-docs", execution.execute_notebooks)
    app.connect("env-before-read-docs", collection.freeze, priority=900)  # after the above
    app.connect("source-read", execution.use_executed_notebook)
    app.connect("env-updated", execution.finish_reading)
    app.connect("source-read", epub.use_xhtml_safe_outputs, priority=600)  # after the above
    app.connect("doctree-read", alt_text.add_alt_text)
    app.connect("doctree-read", speedups.note_languages)
    app.connect("doctree-read", speedups.highlight_read_ahead)
    app.connect("html-collect-pages", epub.exclude_copied_notebooks)
    app.connect("html-page-context", epub.close_tab_inputs)
    app.add_event(resolving.WRITERS_BUSY)
    app.connect(resolving.WRITERS_BUSY, downloads.write_while_writers_busy)
    app.connect("build-finished", downloads.write_notebook_downloads)
    app.connect("build-finished", execution.stop_services)
    app.connect("doctree-read", collection.collect_now_and_then)
    app.connect("doctree-resolved", collection.collect_now_and_then)
    app.connect("env-updated", collection.collect_and_freeze, priority=900)  # after the others
    app.connect("build-finished", collection.resume, priority=900)
    app.connect("build-finished", scheduling.restore)
    app.connect("build-finished", traversal.restore_after_build)
    # Last: the worker processes start while Sphinx loads the other extensions.
    execution.start_workers_early(app)
    app.add_css_file("mle-handbook.css")
    app.add_js_file("mle-handbook.js", priority=600)  # after Sphinx's translations.js (500)
    return {
        "version": "1",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
        "env_version": 1,
    }
