"""Batched pandoc conversions give nbsphinx exactly what its own pandoc runs give, faster."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import nbsphinx
import pytest

from mle_handbook.sphinxext import pandoc_batch, speedups, tools

ROOT = Path(__file__).resolve().parents[2]
#: nbsphinx's own pandoc runs, one per step and cell.
PLAIN_PANDOC = getattr(nbsphinx.pandoc, "__wrapped__", nbsphinx.pandoc)
#: nbsphinx names each image it takes from HTML with a random id.
IMAGE_ID = re.compile(r"\|[0-9a-f]{32}\|")

#: Markdown that exercises every branch of nbsphinx's JSON filter, and reST's fussier corners.
TRICKY = [
    "Display maths:\n\n\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n",
    "Inline $x^2$ and $$\\sum_i x_i$$ maths, and \\(\\alpha\\) in LaTeX brackets.",
    'A citation <cite data-cite="breiman2001">Breiman (2001)</cite> in HTML.',
    '<img src="figure.png" alt="A figure" width="300"/>\n\nAn image in HTML.',
    "| a | b |\n|---|---|\n| 1 | 2 |\n\nA table, a [link](https://example.org) and `code`.",
    "# A heading\n\n1. one\n2. two\n   - nested\n\n> quoted *emphasis* **strong**",
    "",
]


@pytest.fixture
def batching(monkeypatch):
    """nbsphinx's pandoc batched, with empty results; returns the count of one-cell runs."""
    tools.make_pandoc_visible(None, None)
    one_cell_runs = []

    def run_pandoc(source, *args, **kwargs):
        one_cell_runs.append(source)
        return PLAIN_PANDOC(source, *args, **kwargs)

    monkeypatch.setattr(nbsphinx, "pandoc", pandoc_batch.batched_pandoc(run_pandoc))
    monkeypatch.setattr(pandoc_batch, "_json", {})
    monkeypatch.setattr(pandoc_batch, "_rst", {})
    monkeypatch.setattr(pandoc_batch, "_unavailable", [])
    return one_cell_runs


def _handbook_markdown() -> list[str]:
    texts = []
    for path in sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("exercises/*.ipynb")]):
        texts += pandoc_batch.markdown_of(nbformat.read(path, as_version=4))
    return texts


def _notebook(texts: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(t) for t in texts])


def _plain_conversions(texts: list[str]) -> list[str]:
    """What nbsphinx gives with one pandoc run per step and cell (its own code, unbatched)."""
    convert = getattr(nbsphinx.markdown2rst, "__wrapped__", nbsphinx.markdown2rst)
    original, nbsphinx.pandoc = nbsphinx.pandoc, PLAIN_PANDOC
    try:
        return [convert(t) for t in texts]
    finally:
        nbsphinx.pandoc = original


def test_every_handbook_cell_converts_to_the_same_rest_in_two_pandoc_runs(batching, monkeypatch):
    texts = _handbook_markdown() + TRICKY
    assert len(texts) > 100
    expected = _plain_conversions(texts)
    batches = []
    real_batch = pandoc_batch._batch
    monkeypatch.setattr(pandoc_batch, "_batch", lambda r: batches.append(r) or real_batch(r))

    pandoc_batch.prefetch(_notebook(texts))
    convert = getattr(nbsphinx.markdown2rst, "__wrapped__", nbsphinx.markdown2rst)
    converted = [convert(t) for t in texts]
    assert [IMAGE_ID.sub("|id|", c) for c in converted] == [
        IMAGE_ID.sub("|id|", e) for e in expected
    ]
    # One image definition per image, as nbsphinx gives: its filter ran once per conversion.
    assert [len(IMAGE_ID.findall(c)) for c in converted] == [
        len(IMAGE_ID.findall(e)) for e in expected
    ]
    assert len(batches) == 2  # Markdown to JSON, then JSON to reST, for every cell at once
    # No cell needed runs of its own, but the HTML image (named anew in each conversion).
    assert len(batching) == 1 and '"c": "image"' in batching[0]  # its filtered JSON


def test_markdown_outputs_are_converted_too(batching):
    nb = _notebook(["A cell."])
    code = nbformat.v4.new_code_cell("display(Markdown('**bold**'))")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/markdown": "**bold** output", "text/plain": "x"}
        )
    ]
    nb.cells.append(code)
    assert pandoc_batch.markdown_of(nb) == ["A cell.", "**bold** output"]
    pandoc_batch.prefetch(nb)
    assert nbsphinx.markdown2rst("**bold** output") == _plain_conversions(["**bold** output"])[0]
    assert batching == []


def test_markdown_not_prefetched_is_converted_by_pandoc_as_before(batching):
    pandoc_batch.prefetch(_notebook(["Fetched."]))
    assert nbsphinx.markdown2rst("Not *fetched*.") == _plain_conversions(["Not *fetched*."])[0]
    assert batching == ["Not *fetched*."]


def test_a_pandoc_without_a_server_falls_back_to_a_run_per_cell(batching, tmp_path, monkeypatch):
    fake = tmp_path / "pandoc"
    fake.write_text("#!/bin/sh\ncat\n")  # answers like a pandoc reading Markdown: no CGI status
    fake.chmod(0o755)
    monkeypatch.setattr(pandoc_batch.shutil, "which", lambda name: str(fake))
    pandoc_batch.prefetch(_notebook(["*a*", "*b*"]))
    assert pandoc_batch._unavailable and not pandoc_batch._json
    monkeypatch.setattr(pandoc_batch.shutil, "which", shutil.which)  # nbsphinx's runs need it
    assert nbsphinx.markdown2rst("*a*") == _plain_conversions(["*a*"])[0]
    assert batching == ["*a*"]


def test_markdown_the_cache_folder_holds_is_not_sent_to_pandoc(batching, tmp_path, monkeypatch):
    plain = getattr(nbsphinx.markdown2rst, "__wrapped__", nbsphinx.markdown2rst)
    memoised = speedups.memoised(plain, tmp_path, salt="test")
    monkeypatch.setattr(nbsphinx, "markdown2rst", memoised)
    memoised("Kept.")  # converted once (a run of its own), now in the folder
    batches = []
    monkeypatch.setattr(pandoc_batch, "_batch", lambda r: batches.append(r) or None)
    pandoc_batch.prefetch(_notebook(["Kept."]))
    assert batches == []
    pandoc_batch.prefetch(_notebook(["Kept.", "New."]))
    assert [r["text"] for r in batches[0]] == ["New."]
