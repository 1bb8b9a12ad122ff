"""Write each notebook page's downloads into the built site (HTML builder only).

For every notebook: ``_notebooks/<docname>.ipynb`` (the source, without outputs). For exercises
also ``<docname>-student.ipynb`` and ``<docname>-student.zip`` (the student notebook with its data).
They are derived from the sources on every build, so they can never go stale.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..bundles import learner_files, zip_bytes
from ..exercises.markers import is_exercise
from ..exercises.student import clear_outputs
from .pages import NOTEBOOK_DOWNLOADS


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def write_while_writers_busy(app) -> None:
    """In a parallel build, while the last pages are being written (:data:`.resolving.WRITERS_BUSY`):
    write the downloads then, instead of after the build (0.08-0.14 s of its end)."""
    write_notebook_downloads(app, None)
    app._mle_downloads_written = True


def write_notebook_downloads(app, exception) -> None:
    """``build-finished``: write every notebook page's downloads, unless already written."""
    if exception is not None or app.builder.name != "html":
        return
    if getattr(app, "_mle_downloads_written", False):
        return
    env = app.env
    for docname in sorted(env.found_docs):
        source = Path(env.doc2path(docname))
        if source.suffix != ".ipynb":
            continue
        target = Path(app.outdir) / NOTEBOOK_DOWNLOADS / docname
        nb = nbformat.read(source, as_version=4)
        _write(target.with_suffix(".ipynb"), nbformat.writes(clear_outputs(nb)).encode())
        if is_exercise(nb):
            files = learner_files(source)
            student = target.parent / f"{target.name}-student.ipynb"
            _write(student, files[source.name])
            _write(target.parent / f"{target.name}-student.zip", zip_bytes(files, source.stem))
