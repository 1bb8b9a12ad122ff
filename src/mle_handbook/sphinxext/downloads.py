"""Write each notebook page's downloads into the built site (HTML builder only).

For every notebook: ``_notebooks/<docname>.ipynb`` (without outputs; for an exercise, with its
solutions but without its hidden tests). For exercises also ``<docname>-student.ipynb`` and
``<docname>-student.zip`` (the student notebook with its data). The runner makes them from the
notebooks this build read (:func:`mle_handbook.runner.downloads_of`); a notebook not read this
build keeps the files of the build that read it, and any that are missing are made again from
the source, so they can never go stale or be missing.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..runner import downloads_of
from .execution import outcomes
from .pages import NOTEBOOK_DOWNLOADS

SUFFIXES = (".ipynb", "-student.ipynb", "-student.zip")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def write_notebook_downloads(app, exception) -> None:
    """``build-finished``: write every notebook page's downloads."""
    if exception is not None or app.builder.name != "html":
        return
    made = {name: outcome.downloads for name, outcome in outcomes(app).items()}
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if source.suffix != ".ipynb":
            continue
        target = Path(app.outdir) / NOTEBOOK_DOWNLOADS / docname
        files = made.get(docname)
        if not files:
            if Path(f"{target}.ipynb").exists():
                continue  # written by the build that last read this notebook
            files = downloads_of(nbformat.read(source, as_version=4), source)
        for suffix, data in files.items():
            _write(Path(f"{target}{suffix}"), data)
