"""The execution cache: unchanged notebooks are not re-executed, any change or failure is."""

from __future__ import annotations

import copy
import shutil

import pytest
from conftest import cell_with_id
from nbformat.v4 import new_code_cell

pytestmark = pytest.mark.slow

CACHE = ("-D", "mle_handbook_cache_dir=_build/.jupyter-cache")


def _clean_build(project, env=None):
    shutil.rmtree(project.srcdir / "_build" / "html", ignore_errors=True)
    return project.build(*CACHE, env=env)


def _with_data(nb, name="data.txt"):
    nb = copy.deepcopy(nb)
    nb.metadata["mle_handbook"] = {"data": [name]}
    nb.cells.insert(1, new_code_cell(f"print(open({name!r}).read())"))
    return nb


def test_clean_build_with_unchanged_notebook_takes_outputs_from_cache(
    mini_project, squares_solution
):
    mini_project.add_notebook("squares", squares_solution)
    first = _clean_build(mini_project)
    assert first.returncode == 0 and "squares.ipynb: executed in" in first.output
    second = _clean_build(mini_project)
    assert second.returncode == 0, second.output
    assert "executed in" not in second.output
    assert "squares.ipynb: unchanged, taken from the execution cache" in second.output
    assert (
        "all checks passed in this build"
        in (second.outdir / "exercises" / "squares.html").read_text()
    )


def test_changing_a_code_cell_re_executes(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    assert _clean_build(mini_project).returncode == 0
    nb = copy.deepcopy(squares_solution)
    cell_with_id(nb, "cube-examples").source += "\nassert cube(3) == 27"
    mini_project.add_notebook("squares", nb)
    assert "squares.ipynb: executed in" in _clean_build(mini_project).output


def test_changing_a_declared_data_file_re_executes(mini_project, squares_solution):
    (mini_project.srcdir / "exercises" / "data.txt").write_text("first")
    mini_project.add_notebook("squares", _with_data(squares_solution))
    assert _clean_build(mini_project).returncode == 0
    assert "from the execution cache" in _clean_build(mini_project).output
    (mini_project.srcdir / "exercises" / "data.txt").write_text("second")
    changed = _clean_build(mini_project)
    assert "squares.ipynb: executed in" in changed.output
    assert "second" in (changed.outdir / "exercises" / "squares.html").read_text()


def test_failing_notebook_is_never_served_from_cache(mini_project, squares_solution):
    nb = copy.deepcopy(squares_solution)
    cell_with_id(nb, "cube-examples").source = "assert False, 'always fails'"
    mini_project.add_notebook("squares", nb)
    assert _clean_build(mini_project).returncode != 0
    again = _clean_build(mini_project)
    assert again.returncode != 0 and "always fails" in again.output
    assert "taken from the execution cache" not in again.output


def test_force_re_executes_despite_the_cache(mini_project, squares_solution):
    mini_project.add_notebook("squares", squares_solution)
    assert _clean_build(mini_project).returncode == 0
    forced = _clean_build(mini_project, env={"MLE_HANDBOOK_FORCE": "1"})
    assert "squares.ipynb: executed in" in forced.output
