"""Sphinx settings for the ML Engineer Handbook (UK).

Settings only: behaviour (notebook execution, exercise pages, the tool set-up) lives in
``mle_handbook.sphinxext``. Every non-default setting says why.
"""

import os as _os
from importlib.metadata import version as _package_version
from importlib.resources import files as _resource_files
from pathlib import Path as _Path

project = "The ML Engineer Handbook (UK)"
author = "The ML Engineer Handbook (UK) contributors"
copyright = "2026, " + author  # noqa: A001 - Sphinx's name for this setting
language = "en_GB"  # UK English throughout; also sets the HTML lang attribute
# The package's version (pyproject.toml), so the two never disagree; EPUB3 requires one.
release = version = _package_version("mle-handbook")

extensions = [
    "mle_handbook.sphinxext",  # first: executes and checks notebooks, decorates exercise pages
    "myst_parser",  # all prose is MyST Markdown
    "nbsphinx",  # renders notebooks (executed by mle_handbook.sphinxext, not by nbsphinx)
    "sphinx_design",  # cards, tabs and dropdowns
    "sphinxcontrib.bibtex",  # every UK fact is cited from a .bib file
]
# Every cross-reference must resolve (`sphinx-build -n`), here so that Read the Docs checks it too.
nitpicky = True

# The source directory is the repository root, so read only the handbook's own folders.
include_patterns = ["index.md", "docs/**", "notebooks/**", "exercises/**"]
exclude_patterns = [
    # Sphinx walks every folder under the source directory that no exclude pattern names, even
    # those include_patterns leaves out: without these, listing the sources walks .venv (tens of
    # thousands of files, twice a build: 15 s under cProfile).
    ".*",  # .venv, .git, caches
    "_build",
    "src",
    "tests",
    "work",
    "binder",
    "venv",
    "**/.ipynb_checkpoints",
    "**/_static/**",
    "docs/bibliography/**",
]
source_suffix = {".md": "markdown", ".ipynb": "jupyter_notebook"}
# Committed notebooks have no outputs; mle_handbook.sphinxext executes them (in parallel, with
# readable failure reports) and hands nbsphinx the executed copy.
nbsphinx_execute = "never"
# No require.js (nbsphinx loads it from a CDN on every page, for widgets, which no notebook uses):
# one third-party request fewer per page, and pages work offline.
nbsphinx_requirejs_path = ""
# Markdown cells of notebooks may use the same MyST roles as the prose.
nbsphinx_custom_formats = {}

myst_enable_extensions = [
    "colon_fence",  # ::: fences for sphinx-design directives
    "deflist",
    "dollarmath",  # $...$ maths in prose and notebooks
    "fieldlist",
    "substitution",
    "attrs_inline",
]
myst_heading_anchors = 3  # [text](#a-heading) links within and between pages

bibtex_bibfiles = [
    "docs/bibliography/core.bib",
    "docs/bibliography/role.bib",
    "docs/bibliography/duties.bib",
    "docs/bibliography/skills.bib",
]
bibtex_default_style = "unsrt"
bibtex_reference_style = "author_year"  # readers see who said it and when, e.g. (DSIT, 2026)

html_theme = "sphinx_book_theme"
html_title = "ML Engineer Handbook (UK)"
# MathJax (3.2.2) served with the site, from the sphinx-mathjax-offline package in the lock, so
# that formulas render offline (on a train, in a classroom without network) and no page asks a CDN.
# Only its files are used, not its Sphinx extension, which does not declare itself parallel-safe
# (a warning, so an error under -W).
_mathjax_files = _Path(str(_resource_files("sphinx-mathjax-offline") / "static"))
mathjax_path = "mathjax/tex-mml-chtml.js"  # under _static/: Sphinx's default component, locally
# Relative to this folder: Sphinx records the setting in the published .buildinfo.
html_static_path = ["docs/_static", _os.path.relpath(_mathjax_files, _os.path.dirname(__file__))]
# Static files are copied minus exclude_patterns: MathJax's other bundles and its SVG output,
# which no page loads, stay out of the site (14 MB of its 24 MB).
exclude_patterns += [
    "mathjax/*svg*",
    "mathjax/output/svg",
    "mathjax/tex-chtml*",
    "mathjax/mml-chtml.js",
    "mathjax/node-main.js",
]
# The EPUB builder copies the static files too and packs each one whose media type it knows. No
# e-reader runs MathJax, so none of its files go into the book (its .json files, of no EPUB media
# type, were warnings, so errors).
epub_exclude_files = [
    f"_static/{path.relative_to(_mathjax_files).as_posix()}"
    for path in sorted(_mathjax_files.rglob("*"))
    if path.is_file()
]
# A site icon (a small decision tree); without one, browsers ask every site for /favicon.ico.
html_favicon = "docs/_static/favicon.svg"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,  # the extension offers student and full notebook downloads instead
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    # The table of contents is two levels deep (section, page); resolving deeper levels for every
    # page's sidebar costs build time and shows nothing more.
    "max_navbar_depth": 2,
    # The sidebar lists every section and opens the reader's own; the pages of other sections are
    # on their landing pages. Building every page's sidebar with all sections open cost 2-3 s of
    # a 6-8 s writing phase (measured with `make bench`-style timings on 2 cores).
    "collapse_navbar": True,
    # No pydata-sphinx-theme header bar: its search field doubled the sidebar's on desktops. On
    # phones the article header's buttons open the sidebar and the search instead.
    "navbar_persistent": [],
}
# Light until the reader picks a mode with the theme button. The theme's empty default logs a
# console error on every first visit; "auto" leaves pages without JavaScript uncoloured.
html_context = {"default_mode": "light"}
html_last_updated_fmt = None  # no "Last updated" date: two builds of one commit are identical
# No copies of the sources in the published site: an exercise's source holds its hidden tests.
html_copy_source = False

# --- mle_handbook.sphinxext --------------------------------------------------------------------
# Per-cell timeout: the slowest cell (a Spark ML fit) takes well under a minute on a laptop.
mle_handbook_timeout = 180
# Kernels run in parallel, one per notebook; Read the Docs and CI machines have two cores.
mle_handbook_jobs = 2
# Repository URL for "Open in Colab/Binder" links; leave empty to show no such links.
mle_handbook_repository_url = ""
mle_handbook_repository_branch = "main"
