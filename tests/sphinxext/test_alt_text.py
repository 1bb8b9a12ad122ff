"""Figures drawn by notebook cells get the alt text in the cell's metadata; a figure without fails."""

from __future__ import annotations

import re

import nbformat
import pytest

from mle_handbook.sphinxext.alt_text import alt_texts, image_outputs, output_image_pattern

FIGURE = """\
import matplotlib.pyplot as plt
from IPython.display import display

for n in range({n}):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, n])
    display(fig)
    plt.close(fig)
"""


def figure_notebook(n: int = 1, alt=None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(FIGURE.format(n=n))
    if alt is not None:
        cell.metadata["mle_handbook"] = {"alt": alt}
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Figures\n\nSome lines."), cell]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_alt_texts_accepts_a_string_or_a_list_and_normalises_spaces():
    one = nbformat.v4.new_code_cell("", metadata={"mle_handbook": {"alt": "A  line\nchart"}})
    assert alt_texts(one) == ["A line chart"]
    two = nbformat.v4.new_code_cell("", metadata={"mle_handbook": {"alt": ["first", "second"]}})
    assert alt_texts(two) == ["first", "second"]
    assert alt_texts(nbformat.v4.new_code_cell("")) == []


def test_image_outputs_skips_text_outputs():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="hi"),
        nbformat.v4.new_output("display_data", data={"image/png": "AA==", "text/plain": "x"}),
    ]
    assert image_outputs(cell) == [1]


def test_output_image_pattern_matches_nbsphinx_file_names():
    match = output_image_pattern("notebooks/decision-trees").match(
        "notebooks_decision-trees_12_3.png"
    )
    assert match and match.groups() == ("12", "3")


@pytest.mark.slow
def test_figures_get_the_alt_text_of_their_cell_in_order(mini_project):
    mini_project.add_notebook("figures", figure_notebook(2, ["Rising line", "Steeper line"]))
    result = mini_project.build()
    assert result.returncode == 0, result.output
    page = (result.outdir / "exercises" / "figures.html").read_text()
    alts = re.findall(r'<img alt="([^"]*)" src="[^"]*figures_\d+_\d+\.png"', page)
    assert alts == ["Rising line", "Steeper line"], page


@pytest.mark.slow
def test_figure_without_alt_text_fails_the_build_naming_the_cell(mini_project):
    mini_project.add_notebook("figures", figure_notebook(1))
    result = mini_project.build()
    assert result.returncode != 0
    assert re.search(
        r"exercises/figures\.ipynb: WARNING: cell 2 draws a figure with no alt text: "
        r"describe it in the cell's metadata as mle_handbook\.alt",
        result.output,
    ), result.output


def test_image_indices_count_consecutive_prints_once_as_nbconvert_merges_them():
    from nbformat.v4 import new_code_cell, new_output

    from mle_handbook.sphinxext.alt_text import image_outputs

    cell = new_code_cell("for x in range(2): print(x)\nplot()")
    cell.outputs = [
        new_output("stream", name="stdout", text="0\n"),
        new_output("stream", name="stdout", text="1\n"),
        new_output("stream", name="stderr", text="warning\n"),
        new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
    ]
    assert image_outputs(cell) == [2]
