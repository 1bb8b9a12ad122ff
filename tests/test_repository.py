"""Repository-wide promises: clean notebooks, honest exercises, the files CI and users rely on."""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT, exercise_paths

from mle_handbook.exercises.verify import verify_exercise

#: The handbook's own notebooks: an instructor's course/, marks/ or release/ folders in the
#: checkout (graded students' work, outputs and all) are not the repository's to check.
COMMITTED_NOTEBOOKS = sorted(
    p
    for folder in ("notebooks", "exercises", "tests/fixtures")
    for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


@pytest.mark.parametrize("path", COMMITTED_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i + 1
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.relative_to(ROOT)}: cells {dirty} have outputs (run mle-handbook clear)"
    )


def test_the_five_exercises_exist():
    assert {p.stem for p in exercise_paths()} >= {
        "decision-trees",
        "probability",
        "spark",
        "monitoring",
        "neural-networks",
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    exercise_paths() + [ROOT / "tests" / "fixtures" / "squares_solution.ipynb"],
    ids=lambda p: p.stem,
)
def test_exercise_source_passes_and_student_version_fails_every_check(path):
    verification = verify_exercise(path)
    assert verification.source.ok, verification.report()
    assert verification.source.checks, "an exercise without autograded checks"
    assert {c.status for c in verification.source.checks} == {"passed"}, verification.report()
    assert not verification.vacuous_checks, verification.report()
    assert {c.status for c in verification.student.checks} == {"failed"}, verification.report()
    assert not verification.leaks, verification.report()


@pytest.mark.parametrize(
    "name",
    [
        "conf.py",
        "index.md",
        "Makefile",
        "pyproject.toml",
        "requirements.lock",
        "README.md",
        "LICENSE",
        ".readthedocs.yaml",
        ".ci/run",
    ],
)
def test_project_file_exists(name):
    assert (ROOT / name).is_file()


def test_lock_pins_every_package():
    lines = [
        line.split(";")[0].strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    unpinned = [line for line in lines if "==" not in line]
    assert lines and not unpinned, unpinned
