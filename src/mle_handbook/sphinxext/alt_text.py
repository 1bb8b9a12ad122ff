"""Alt text for the figures notebooks draw.

nbsphinx renders an image output with Sphinx's image directive and no alt text, so the page would
read out the image's file name. Authors describe each figure in the metadata of the cell that
draws it::

    "metadata": {"mle_handbook": {"alt": "A line chart of training and test accuracy ..."}}

(a list of strings when one cell draws several figures, in the order they appear). After a
notebook page is read, every image node that came from a cell's output gets that text; a figure
without one is a warning (an error under ``-W``) naming the notebook and the cell.

nbsphinx names output images ``<docname with / as _>_<cell index>_<output index>.<ext>``, counting
the cells of the notebook it was given: the decorated notebook of :func:`.pages.decorate`. So when
:mod:`.execution` hands nbsphinx that notebook (``source-read``), it also keeps what this module
needs of it (:func:`figures_of`) in Sphinx's per-document scratch data (``env.temp_data``), which
``doctree-read`` of the same document then reads.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from docutils import nodes
from sphinx.util import logging

from ..exercises.markers import ALT_KEY, PROJECT_KEY

#: The key of :func:`figures_of`'s result in ``env.temp_data``.
TEMP_KEY = "mle_handbook_figures"

logger = logging.getLogger(__name__)

IMAGE_TYPES = ("image/svg+xml", "image/png", "image/jpeg", "application/pdf")


def alt_texts(cell) -> list[str]:
    """The alt texts a cell's metadata gives, in output order."""
    value = cell.get("metadata", {}).get(PROJECT_KEY, {}).get(ALT_KEY)
    if value is None:
        return []
    texts = [value] if isinstance(value, str) else list(value)
    return [" ".join(str(t).split()) for t in texts]


def image_outputs(cell) -> list[int]:
    """Indices, as nbsphinx numbers its image files, of a cell's outputs that it renders as an
    image. nbconvert first merges consecutive stream outputs of the same stream (its
    ``coalesce_streams`` step), so those count once."""
    found, index, previous = [], -1, None
    for output in cell.get("outputs", []):
        stream = output.get("name") if output.get("output_type") == "stream" else None
        if stream is None or stream != previous:
            index += 1
        previous = stream
        if output.get("output_type") in ("display_data", "execute_result") and any(
            kind in output.get("data", {}) for kind in IMAGE_TYPES
        ):
            found.append(index)
    return found


def output_image_pattern(docname: str) -> re.Pattern:
    key = re.escape(re.sub("[/ ]", "_", docname))
    return re.compile(rf"^{key}_(\d+)_(\d+)\.\w+$")


def figures_of(page, executed) -> dict[int, tuple[int | None, list[int], list[str]]]:
    """For each cell of the decorated ``page`` that draws a figure: its number in the executed
    notebook (1-based, as failure reports count), its image outputs and its alt texts."""
    numbers = {c.get("id"): n for n, c in enumerate(executed.cells, start=1)}
    return {
        index: (numbers.get(cell.get("id")), image_outputs(cell), alt_texts(cell))
        for index, cell in enumerate(page.cells)
        if image_outputs(cell)
    }


def add_alt_text(app, doctree) -> None:
    """Give every notebook output image of the page just read its author's alt text."""
    figures = app.env.temp_data.get(TEMP_KEY)
    if figures is None:
        return
    docname = app.env.docname
    pattern = output_image_pattern(docname)
    for node in doctree.findall(nodes.image):
        match = pattern.match(PurePosixPath(node.get("uri", "").replace("\\", "/")).name)
        if not match or node.get("alt"):
            continue
        cell_index, output_index = int(match.group(1)), int(match.group(2))
        if cell_index not in figures:
            continue
        number, images, texts = figures[cell_index]
        position = images.index(output_index) if output_index in images else -1
        if 0 <= position < len(texts) and texts[position]:
            node["alt"] = texts[position]
            continue
        logger.warning(
            f"cell {number or '?'} draws a figure with no alt text: describe it in the "
            f"cell's metadata as {PROJECT_KEY}.{ALT_KEY} (a list when the cell draws several)",
            location=docname,
            type="mle_handbook",
            subtype="alt_text",
        )
