"""A learner's download (the exercise zip, a release) carries no link that leads nowhere."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

import nbformat
import pytest
from conftest import ROOT, exercise_paths

from mle_handbook.bundles import NOTEBOOK_LINK, learner_files, zip_bytes


def _links(data: bytes) -> list[str]:
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return [m.group(2) + (m.group(3) or "") for m in NOTEBOOK_LINK.finditer(text)]


def _broken_links(archive: zipfile.ZipFile) -> list[str]:
    names = set(archive.namelist())
    broken = []
    for name in sorted(n for n in names if n.endswith(".ipynb")):
        for link in _links(archive.read(name)):
            if "://" in link:
                continue
            target = PurePosixPath(name).parent / link.split("#")[0]
            resolved = re.sub(r"[^/]+/\.\./", "", target.as_posix())
            if resolved not in names:
                broken.append(f"{name}: {link}")
    return broken


@pytest.mark.parametrize("exercise", exercise_paths(), ids=lambda p: p.stem)
def test_every_exercise_zip_holds_the_notebooks_its_links_lead_to(exercise):
    files = learner_files(exercise)
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(files, exercise.stem)))
    assert f"{exercise.stem}/{exercise.name}" in archive.namelist()
    assert _links(files[exercise.name]), "the exercise links to its worked notebook"
    assert not _broken_links(archive)
    assert not any(".." in PurePosixPath(n).parts for n in archive.namelist())
    for name in archive.namelist():
        if name.endswith(".ipynb"):
            text = archive.read(name).decode()
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name


def test_the_decision_tree_exercise_links_to_the_worked_notebook_inside_the_zip():
    files = learner_files(ROOT / "exercises" / "decision-trees.ipynb")
    assert "notebooks/decision-trees.ipynb" in _links(files["decision-trees.ipynb"])
    # ... and the worked notebook links back to the exercise, at the top of the zip's folder.
    assert "../decision-trees.ipynb" in _links(files["notebooks/decision-trees.ipynb"])


def _notebook(*markdown: str, data: list[str] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(m) for m in markdown])
    if data:
        nb.metadata["mle_handbook"] = {"data": data}
    return nb


def test_links_are_rewritten_with_their_anchors_and_other_links_are_left_alone(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "notebooks" / "data").mkdir(parents=True)
    (tmp_path / "notebooks" / "data" / "info.txt").write_text("hello\n")
    exercise = tmp_path / "exercises" / "squares.ipynb"
    nbformat.write(
        _notebook(
            "See [the worked notebook](../notebooks/worked.ipynb#squares) and "
            "[Jupyter](https://jupyter.org/x.ipynb); [gone](../notebooks/missing.ipynb)."
        ),
        exercise,
    )
    nbformat.write(
        _notebook("Back to [the exercise](../exercises/squares.ipynb).", data=["data/info.txt"]),
        tmp_path / "notebooks" / "worked.ipynb",
    )
    files = learner_files(exercise)
    assert set(files) == {"squares.ipynb", "notebooks/worked.ipynb", "notebooks/data/info.txt"}
    assert _links(files["squares.ipynb"]) == [
        "notebooks/worked.ipynb#squares",
        "https://jupyter.org/x.ipynb",
        "../notebooks/missing.ipynb",  # nothing to bundle: left as it was
    ]
    assert _links(files["notebooks/worked.ipynb"]) == ["../squares.ipynb"]
    # `mle-handbook start` copies the handbook's folders as they are, links and all.
    alone = learner_files(exercise, linked=False)
    assert set(alone) == {"squares.ipynb"}
    assert _links(alone["squares.ipynb"])[0] == "../notebooks/worked.ipynb#squares"


def test_a_relative_path_to_the_notebook_gives_the_same_bundle(monkeypatch):
    monkeypatch.chdir(ROOT / "exercises")
    assert learner_files(Path("decision-trees.ipynb")) == learner_files(
        ROOT / "exercises" / "decision-trees.ipynb"
    )
