"""What a learner receives for one exercise: the student notebook and the data files it reads.

Shared by the site's downloads, ``mle-handbook release`` and ``mle-handbook start``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat

from .exercises.markers import is_exercise, project_meta
from .exercises.student import clear_outputs, student_version


def data_files(notebook: str | Path, nb: nbformat.NotebookNode | None = None) -> list[Path]:
    """Data files a notebook declares in its ``mle_handbook.data`` metadata, relative to it."""
    notebook = Path(notebook)
    nb = nb if nb is not None else nbformat.read(notebook, as_version=4)
    files = []
    for name in project_meta(nb).get("data", []):
        path = (notebook.parent / name).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{notebook}: declared data file {name!r} does not exist")
        files.append(Path(name))
    return files


def learner_files(
    notebook: str | Path, nb: nbformat.NotebookNode | None = None
) -> dict[str, bytes]:
    """``{relative path: content}`` a learner gets: the student (or cleared) notebook and its data.
    ``nb`` is the notebook's content when the caller has already read it."""
    notebook = Path(notebook)
    nb = nb if nb is not None else nbformat.read(notebook, as_version=4)
    version = student_version(nb) if is_exercise(nb) else clear_outputs(nb)
    files = {notebook.name: nbformat.writes(version).encode("utf-8")}
    for name in data_files(notebook, nb):
        files[name.as_posix()] = (notebook.parent / name).read_bytes()
    return files


def zip_bytes(files: dict[str, bytes], folder: str = "") -> bytes:
    """A deterministic zip (fixed timestamps, sorted names) of ``files`` under ``folder``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}" if folder else name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()
