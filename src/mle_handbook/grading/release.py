"""Release exercises to a class: student folders and zips for a learning platform, or an nbgrader course.

Per exercise: ``OUT/<exercise>/`` (:func:`mle_handbook.bundles.learner_files`) and its
deterministic zip; with ``nbgrader_course``, the *source* notebook and its data files in
``COURSE/source/<exercise>/`` and a ``COURSE/nbgrader_config.py`` that nbgrader's own commands use
unchanged. The instructors' guide, "Releasing exercises to a class", shows each. Releasing twice
writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..bundles import data_files, learner_files, zip_bytes
from ..exercises.execute import DEFAULT_TIMEOUT
from ..exercises.markers import (
    BEGIN_HIDDEN,
    CODE_STUB,
    TEXT_STUB,
    is_exercise,
    project_meta,
)
from ..exercises.student import clear_outputs
from ..exercises.validate import validate
from ..files import write_bytes_atomic

#: Where exercises live, relative to the repository root (the working folder of ``make``).
EXERCISES_DIR = Path("exercises")

NBGRADER_CONFIG = """\
# nbgrader configuration written by `mle-handbook release --nbgrader`.
# The exercises use nbgrader's own cell metadata and markers, so nbgrader needs little more.
import os

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
)

try:  # the handbook's environment (.venv/bin/nbgrader): its student notebooks are known
    from mle_handbook.exercises.markers import BEGIN_HIDDEN, END_HIDDEN, replace_regions
    from mle_handbook.exercises.student import student_version
except ImportError:  # another nbgrader: cells are compared as nbgrader does
    student_version = None

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file


class HideHiddenTestOutputs(NbGraderPreprocessor):
    \"\"\"Feedback: a check with hidden tests shows that it failed, never its traceback or message
    (they quote the hidden lines); ClearHiddenTests then removes the lines themselves.\"\"\"

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and {begin_hidden!r} in cell.source:
            failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            cell.outputs = []
            if failed:
                text = "This check did not pass; its hidden tests are not shown.\\n"
                cell.outputs.append(new_output("stream", name="stdout", text=text))
        return cell, resources


class RestoreReleasedCells(NbGraderPreprocessor):
    \"\"\"Autograde: a read-only cell the student left as released (the handbook's student notebook or
    nbgrader's) gets the source's text back, hidden tests included, before nbgrader compares
    checksums; so nbgrader warns only about cells a student really changed.\"\"\"

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {{}})
        path = os.path.join(
            os.path.dirname(__file__), "source", info.get("assignment", ""),
            info.get("notebook", "") + ".ipynb",
        )
        if student_version is None or not os.path.isfile(path):
            return nb, resources
        source = nbformat.read(path, as_version=4)
        released = student_version(source)

        def squash(text):
            return "".join(text.split())

        originals = {{}}
        for cell, mine in zip(source.cells, released.cells):
            meta = cell.metadata.get("nbgrader", {{}})
            if meta.get("locked") and not meta.get("solution") and meta.get("grade_id"):
                nbgrader_text = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, None)
                forms = {{squash(mine.source), squash(nbgrader_text)}}
                originals[meta["grade_id"]] = (cell.source, forms)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {{}}).get("grade_id")
            if grade_id in originals:
                text, forms = originals[grade_id]
                if squash(cell.source) in forms:
                    cell.source = text
        return nb, resources


c.CourseDirectory.course_id = {course_id!r}
# Assignments released into source/ by mle-handbook: {assignments}

# The same stubs as the handbook's student notebooks.
c.ClearSolutions.code_stub = {{"python": {code_stub!r}}}
c.ClearSolutions.text_stub = {text_stub!r}

# Per-cell time limit when autograding, in seconds: the largest an exercise asks for.
c.Execute.timeout = {timeout}

# Submissions left as released raise no checksum warnings (see RestoreReleasedCells).
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    RestoreReleasedCells,
    OverwriteCells,
    CheckCellMetadata,
]

# Feedback never shows hidden tests: not their lines, not their tracebacks or messages.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTestOutputs,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
"""


@dataclass
class Released:
    """What one exercise's release wrote."""

    exercise: str
    folder: Path
    zip: Path | None = None


def find_exercises(
    exercises: list[str | Path] | None = None, root: Path = EXERCISES_DIR
) -> list[Path]:
    """Exercise notebooks by name (``decision-trees``) or path; all of ``root`` when None."""
    if not exercises:
        paths = sorted(root.glob("*.ipynb"))
        return [p for p in paths if is_exercise(nbformat.read(p, as_version=4))]
    found = []
    for item in exercises:
        path = Path(item)
        if path.suffix != ".ipynb" or not path.is_file():
            path = root / f"{Path(item).stem}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"no exercise {str(item)!r} (looked for {path})")
        found.append(path)
    return found


def nbgrader_config(
    names: list[str], timeouts: list[float], course_id: str = "mle-handbook"
) -> str:
    return NBGRADER_CONFIG.format(
        course_id=course_id,
        assignments=", ".join(sorted(names)),
        code_stub=CODE_STUB,
        text_stub=TEXT_STUB,
        timeout=int(max(timeouts, default=DEFAULT_TIMEOUT)),
        begin_hidden=BEGIN_HIDDEN,
    )


def _write_bytes(path: Path, data: bytes) -> None:
    """Write atomically, and not at all when the content is already there."""
    if path.is_file() and path.read_bytes() == data:
        return
    write_bytes_atomic(path, data)


def release(
    exercises: list[str | Path] | None = None,
    out_dir: str | Path = "release",
    *,
    zip: bool = True,
    nbgrader_course: str | Path | None = None,
    course_id: str = "mle-handbook",
    exercises_dir: str | Path = EXERCISES_DIR,
) -> list[Released]:
    """Release ``exercises`` into ``out_dir`` (and an nbgrader course); returns what was written."""
    out_dir = Path(out_dir)
    paths = find_exercises(exercises, Path(exercises_dir))
    released: list[Released] = []
    for path in paths:
        source = nbformat.read(path, as_version=4)
        validate(source, path)
        name = path.stem
        files = learner_files(path)
        folder = out_dir / name
        for relative, content in files.items():
            _write_bytes(folder / relative, content)
        entry = Released(name, folder)
        if zip:
            entry.zip = out_dir / f"{name}.zip"
            _write_bytes(entry.zip, zip_bytes(files, folder=name))
        if nbgrader_course is not None:
            target = Path(nbgrader_course) / "source" / name
            source_text = nbformat.writes(clear_outputs(source))
            _write_bytes(target / f"{name}.ipynb", source_text.encode("utf-8"))
            for relative in data_files(path, source):
                _write_bytes(target / relative, (path.parent / relative).read_bytes())
        released.append(entry)
    if nbgrader_course is not None:
        course = Path(nbgrader_course)
        names = sorted({p.name for p in (course / "source").iterdir() if p.is_dir()})
        timeouts = [
            float(project_meta(nbformat.read(p, as_version=4)).get("timeout") or DEFAULT_TIMEOUT)
            for p in paths
        ]
        config = nbgrader_config(names, timeouts, course_id)
        _write_bytes(course / "nbgrader_config.py", config.encode("utf-8"))
    return released
