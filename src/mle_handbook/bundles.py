"""What a learner receives for one exercise: the student notebook and the data files it reads.

Shared by the site's downloads, ``mle-handbook release`` and ``mle-handbook start``.

A notebook taken out of the handbook (a download or a release) must not carry links that lead
nowhere: the decision-tree exercise points to ``../notebooks/decision-trees.ipynb``, which a zip of
one folder does not have. So a bundle also holds every handbook notebook its notebooks link to,
followed link by link (a handful: an exercise, its worked notebook and those they mention), each
in its learner version and with its data, in the handbook's layout seen from the bundle's
notebook: files of its own folder at the top, those of another folder ``F`` under ``F/``. The links
are rewritten to match (``../notebooks/x.ipynb`` becomes ``notebooks/x.ipynb``). ``mle-handbook
start`` copies whole folders in the handbook's own layout, where the links already work, so it
asks for the notebook and its data alone.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
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


#: A Markdown link to a notebook: ``[text](target.ipynb)``, maybe with ``#anchor`` after it.
NOTEBOOK_LINK = re.compile(r"(\]\()([^)\s#]+\.ipynb)(#[^)\s]*)?(\))")


def _learner_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return student_version(nb) if is_exercise(nb) else clear_outputs(nb)


def linked_notebooks(notebook: Path, nb: nbformat.NotebookNode) -> list[Path]:
    """Handbook notebooks (existing files) that Markdown cells of ``nb`` link to, by relative path."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in NOTEBOOK_LINK.finditer(cell.source):
            target = match.group(2)
            if "://" in target or target.startswith("/"):
                continue
            path = Path(os.path.normpath(notebook.parent / target))
            if path.is_file() and path not in found:
                found.append(path)
    return found


def _rewrite_links(nb: nbformat.NotebookNode, new_target) -> nbformat.NotebookNode:
    """``nb`` with each notebook link's target replaced by ``new_target(target)`` (None: keep)."""

    def replace(match: re.Match) -> str:
        target = new_target(match.group(2))
        if target is None:
            return match.group(0)
        return f"{match.group(1)}{target}{match.group(3) or ''}{match.group(4)}"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(replace, cell.source)
    return nb


def learner_files(
    notebook: str | Path, nb: nbformat.NotebookNode | None = None, *, linked: bool = True
) -> dict[str, bytes]:
    """``{relative path: content}`` a learner gets: the student (or cleared) notebook and its data,
    and (unless ``linked`` is false) the notebooks it links to (see the module docstring).
    ``nb`` is the notebook's content when the caller has already read it."""
    notebook = Path(os.path.normpath(Path(notebook).absolute()))
    nb = nb if nb is not None else nbformat.read(notebook, as_version=4)
    if not linked:
        files = {notebook.name: nbformat.writes(_learner_version(nb)).encode("utf-8")}
        for name in data_files(notebook, nb):
            files[name.as_posix()] = (notebook.parent / name).read_bytes()
        return files

    home, top = notebook.parent, notebook.parent.parent

    def place(path: Path) -> str | None:
        """Where a handbook file goes in the bundle, or None when it is outside the handbook."""
        for base in (home, top):
            if path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return None

    contents = {notebook: nb}
    queue = [notebook]
    while queue:
        current = queue.pop(0)
        for target in linked_notebooks(current, contents[current]):
            if target not in contents and place(target) is not None:
                contents[target] = nbformat.read(target, as_version=4)
                queue.append(target)

    files: dict[str, bytes] = {}
    for path, source in contents.items():
        here = place(path)

        def new_target(target: str, path: Path = path, here: str = here) -> str | None:
            resolved = Path(os.path.normpath(path.parent / target))
            if resolved not in contents:
                return None
            return posixpath.relpath(place(resolved), posixpath.dirname(here) or ".")

        version = _rewrite_links(_learner_version(source), new_target)
        files[here] = nbformat.writes(version).encode("utf-8")
        for name in data_files(path, source):
            files[place(Path(os.path.normpath(path.parent / name)))] = (
                path.parent / name
            ).read_bytes()
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
