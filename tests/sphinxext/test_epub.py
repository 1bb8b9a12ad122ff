"""The EPUB builds with warnings as errors, holds only its pages, and every page is well-formed XHTML."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import nbformat
import pytest
from conftest import ROOT

from mle_handbook.sphinxext.epub import close_void_inputs, xhtml_safe_outputs

PANDAS_HTML = '<div>\n<style scoped>\n    .dataframe tbody tr th { vertical-align: top; }\n</style>\n<table border="1" class="dataframe"><tr><td>1</td></tr></table>\n</div>'


def _output(html: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "execute_result", data={"text/html": html, "text/plain": "   a\n0  1"}, execution_count=1
    )


def test_html_outputs_that_are_not_xml_fall_back_to_plain_text():
    cell = nbformat.v4.new_code_cell("df")
    cell.outputs = [_output(PANDAS_HTML), _output("<b>bold</b>")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    safe = xhtml_safe_outputs(nb)
    assert "text/html" not in safe.cells[0].outputs[0].data  # <style scoped> is not XML
    assert safe.cells[0].outputs[1].data["text/html"] == "<b>bold</b>"  # well-formed: kept
    assert "text/html" in nb.cells[0].outputs[0].data, "the input notebook is not changed"


def test_tab_inputs_are_closed_for_xml():
    body = '<input checked="checked" id="t" type="radio"><label for="t">Python</label>'
    assert close_void_inputs(body).startswith('<input checked="checked" id="t" type="radio" />')
    assert close_void_inputs('<input id="x" />') == '<input id="x" />'


def _check_epub(path) -> list[str]:
    """Problems with an EPUB file: foreign files, malformed pages, images without alt text."""
    problems = []
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name.endswith((".ipynb", ".doctree", ".pickle")):
                problems.append(f"{name}: not part of a book")
            if not name.endswith(".xhtml"):
                continue
            text = book.read(name)
            try:
                ET.fromstring(text)
            except ET.ParseError as exc:
                problems.append(f"{name}: not well-formed XHTML ({exc})")
            for image in re.findall(rb"<img[^>]*>", text):
                if not re.search(rb'alt="[^"]+"', image):
                    problems.append(f"{name}: image without alt text {image[:80]!r}")
            if b"mleh-download" in text or b"mybinder.org" in text:
                problems.append(f"{name}: a site-only link (downloads, Binder) in the book")
    return problems


@pytest.mark.slow
def test_mini_project_epub_with_a_dataframe_builds_clean(mini_project, squares_solution):
    frame = nbformat.v4.new_code_cell("import pandas as pd\npd.DataFrame({'a': [1, 2]})")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Frames"), frame])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    mini_project.add_notebook("frames", nb)
    mini_project.add_notebook("squares", squares_solution)
    doctrees = str(mini_project.srcdir / "_build" / "doctrees-epub")  # as `make epub` does
    result = mini_project.build(
        "-D", "version=1", "-D", "copyright=2026", "-d", doctrees, builder="epub"
    )
    assert result.returncode == 0, result.output
    [book] = result.outdir.glob("*.epub")
    assert not _check_epub(book)


@pytest.mark.slow
def test_the_handbook_epub_builds_with_warnings_as_errors(tmp_path):
    """What `make epub` runs: warnings are errors, doctrees outside the book's folder."""
    outdir = tmp_path / "epub"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "epub", "-n", "-W", "--keep-going"]
        + ["-d", str(tmp_path / "doctrees"), str(ROOT), str(outdir)],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    [book] = outdir.glob("*.epub")
    problems = _check_epub(book)
    assert not problems, "\n".join(problems)


def test_make_epub_keeps_doctrees_out_of_the_book_and_read_the_docs_offers_it():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^epub: .*\n\t(.+)$", makefile, re.M).group(1)
    assert "-b epub $(SPHINXFLAGS) -d $(BUILDDIR)/doctrees/epub" in recipe
    assert re.search(r"^formats:\n\s+- epub$", (ROOT / ".readthedocs.yaml").read_text(), re.M)
