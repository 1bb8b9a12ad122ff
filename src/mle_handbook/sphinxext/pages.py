"""Decorate an executed notebook for its page: pure notebook-to-notebook functions.

Exercise pages get a summary line ("N questions · P points · all checks passed in this build")
computed from the executed notebook, download links, each check's points and result, solutions
and the set-up and check-helper cells collapsed in ``<details>`` elements (closed by default,
usable without JavaScript), so that the reader meets the question first, and hidden tests
replaced by a note. Worked notebooks get download links. Both get "Open on Binder/Colab" links
(:mod:`.launch`) when ``conf.py`` sets the repository URL.
"""

from __future__ import annotations

import copy
import html
import os
import posixpath
import re
import tempfile
from pathlib import Path

import nbformat

from ..exercises.execute import ExecutionResult
from ..exercises.markers import (
    BEGIN_HIDDEN,
    HELPERS_LABEL,
    cell_kind,
    is_exercise,
    is_helper,
    question_of,
    without_markers,
)
from ..exercises.student import mask_hidden_tests
from .launch import launch_html

NOTEBOOK_DOWNLOADS = "_notebooks"  # folder of the built site holding downloadable notebooks


_ADDED = "mleh-"  # the id prefix of cells added here


def _html(text: str) -> nbformat.NotebookNode:
    """A raw HTML cell. Built directly: ``nbformat.v4.new_raw_cell`` checks each new cell
    against the notebook schema (about 1 % of a cached clean build's processor time, sampled);
    the decorated notebook is checked as a whole when nbsphinx reads it."""
    return nbformat.from_dict(
        {
            "cell_type": "raw",
            "id": _ADDED,  # made unique by _number_added_cells
            "metadata": {"raw_mimetype": "text/html"},
            "source": text,
        }
    )


def _number_added_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Give added cells ids from their position: nbformat's random ids would make every build's
    copy of a notebook differ from the last (the build is reproducible)."""
    for index, cell in enumerate(nb.cells):
        if cell.get("id", "").startswith(_ADDED):
            cell.id = f"{_ADDED}{index}"
    return nb


def download_href(docname: str, suffix: str) -> str:
    """Relative link from a page to one of its notebook downloads."""
    target = f"{NOTEBOOK_DOWNLOADS}/{docname}{suffix}"
    return posixpath.relpath(target, posixpath.dirname(docname) or ".")


def _points(value: float) -> str:
    text = f"{value:g}"
    return f"{text} point" if value == 1 else f"{text} points"


def summary(result: ExecutionResult) -> tuple[int, float, str]:
    """(questions, points, check status) of an executed exercise."""
    graded = [cell_kind(c) for c in result.notebook.cells if cell_kind(c).grade]
    questions = {question_of(k.grade_id) for k in graded if k.grade_id}
    points = sum(k.points or 0 for k in graded)
    failed = [c for c in result.checks if c.status != "passed"]
    if not failed:
        status = "all checks passed in this build"
    else:
        status = f"{len(failed)} of {len(result.checks)} checks failed in this build"
    return len(questions), points, status


def _downloads_html(docname: str, exercise: bool) -> str:
    links = []
    if exercise:
        links.append(
            f'<a class="mleh-download" href="{download_href(docname, "-student.ipynb")}" download>'
            "Student notebook (.ipynb)</a>"
        )
        links.append(
            f'<a class="mleh-download" href="{download_href(docname, "-student.zip")}" download>'
            "Student notebook with data (.zip)</a>"
        )
    links.append(
        f'<a class="mleh-download" href="{download_href(docname, ".ipynb")}" download>'
        f"{'Full notebook with solutions' if exercise else 'Notebook'} (.ipynb)</a>"
    )
    return '<p class="mleh-downloads">Download: ' + " · ".join(links) + "</p>"


def _sanitise_hidden_outputs(cell) -> None:
    """A failing hidden test shows only its exception line, never the traceback's source."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]


def decorate_exercise(
    result: ExecutionResult, docname: str, downloads: bool = True, launch: str = ""
):
    nb = copy.deepcopy(result.notebook)
    for cell in nb.cells:
        if cell_kind(cell).autograded_test and BEGIN_HIDDEN in cell.source:
            _sanitise_hidden_outputs(cell)
    nb = mask_hidden_tests(nb)
    statuses = {c.grade_id: c for c in result.checks}
    questions, points, status = summary(result)
    head = (
        f'<p class="mleh-summary"><strong>{questions} questions · {_points(points)}</strong>'
        f" · {html.escape(status)}</p>"
    )
    if downloads:
        head += _downloads_html(docname, exercise=True) + launch
    cells = []
    inserted = False
    for cell in nb.cells:
        kind = cell_kind(cell)
        if kind.autograded_test:
            check = statuses.get(kind.grade_id)
            state = check.status if check else "not-run"
            mark = {"passed": "✓ passed", "failed": "✗ failed"}.get(state, "not run")
            cells.append(
                _html(
                    f'<p class="mleh-check mleh-{state}">Check <code>{html.escape(kind.grade_id)}</code>'
                    f" · {_points(kind.points or 0)} · {mark} in this build</p>"
                )
            )
            cells.append(cell)
        elif is_helper(cell) and not cell.get("outputs"):  # a figure it draws stays in view
            cells.append(
                _html(
                    f'<details class="mleh-solution mleh-helpers"><summary>{HELPERS_LABEL}'
                    f" (<code>{html.escape(kind.grade_id or '')}</code>)</summary>"
                )
            )
            cells.append(cell)
            cells.append(_html("</details>"))
        elif kind.solution:
            cell.source = without_markers(cell.source)
            label = "Show a model answer" if kind.manual_answer else "Show solution"
            extra = f" · {_points(kind.points or 0)}, marked by hand" if kind.manual_answer else ""
            cells.append(
                _html(
                    f'<details class="mleh-solution"><summary>{label}'
                    f" (<code>{html.escape(kind.grade_id or '')}</code>{extra})</summary>"
                )
            )
            cells.append(cell)
            cells.append(_html("</details>"))
        else:
            cells.append(cell)
        if not inserted and cell.cell_type == "markdown":
            cells.append(_html(head))
            inserted = True
    nb.cells = cells
    return nb


def decorate_notebook(
    result: ExecutionResult, docname: str, downloads: bool = True, launch: str = ""
):
    nb = copy.deepcopy(result.notebook)
    if downloads:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                nb.cells.insert(index + 1, _html(_downloads_html(docname, False) + launch))
                break
    return nb


#: Numbers Spark gives expressions and plan nodes (``region#70``, ``[plan_id=7843]``): counters
#: of the JVM, which every notebook of a build shares, so they depend on what ran before.
_SPARK_IDS = re.compile(r"(?<=#)\d+|(?<=plan_id=)\d+")


def _renumber_spark_ids(text: str) -> str:
    """Spark's expression and plan ids in ``text`` renumbered 1, 2, … by first appearance, so
    that the same id still means the same column and every build prints the same plan."""
    if "== Physical Plan ==" not in text:
        return text
    numbers: dict[str, str] = {}
    return _SPARK_IDS.sub(lambda m: numbers.setdefault(m.group(0), str(len(numbers) + 1)), text)


def _coalesce_streams(outputs: list) -> list:
    """Consecutive outputs of one stream merged into one, as nbconvert does before rendering:
    how a kernel happened to split printed text never changes the published notebook."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = _text(previous["text"]) + _text(output["text"])
        else:
            merged.append(output)
    return merged


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def reproducible(nb: nbformat.NotebookNode, folder: str | Path) -> nbformat.NotebookNode:
    """``nb`` with outputs that every build prints alike, wherever and whenever it runs: the
    notebook's own folder taken out (paths relative to the notebook, as Spark's plans would show
    them had it been started there), the system's temporary folder written as ``/tmp``, stream
    outputs merged, and Spark's ids renumbered."""
    folder = os.path.abspath(folder)
    replacements = [(f"file:{folder}{os.sep}", ""), (f"{folder}{os.sep}", ""), (folder, ".")]
    temporary = os.path.realpath(tempfile.gettempdir())
    if temporary != "/tmp":
        replacements.append((temporary, "/tmp"))

    def clean(value):
        if isinstance(value, list):
            value = "".join(value) if all(isinstance(v, str) for v in value) else value
        if not isinstance(value, str):
            return value
        for old, new in replacements:
            value = value.replace(old, new)
        return _renumber_spark_ids(value)

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = _coalesce_streams(cell.get("outputs", []))
        for output in cell.outputs:
            if "text" in output:
                output["text"] = clean(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime == "image/svg+xml":
                    output["data"][mime] = clean(value)
            if "traceback" in output:
                output["traceback"] = [clean(line) for line in output["traceback"]]
    return nb


def decorate(result: ExecutionResult, *, docname: str, config, builder: str):
    """The notebook nbsphinx renders for ``docname``."""
    downloads = builder == "html"  # relative links assume one page per docname.html
    # "Open on Binder/Colab": only where downloads are offered, and only with a repository URL.
    launch = launch_html(docname, result.notebook, config) if downloads else ""
    if is_exercise(result.notebook):
        nb = decorate_exercise(result, docname, downloads=downloads, launch=launch)
    else:
        nb = decorate_notebook(result, docname, downloads=downloads, launch=launch)
    return _number_added_cells(nb)
