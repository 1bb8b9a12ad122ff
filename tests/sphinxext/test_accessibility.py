"""Accessibility basics of the built site: alt text, heading order, words beside colours, contrast."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

CSS = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "mle_handbook"
    / "sphinxext"
    / "static"
    / "mle-handbook.css"
)
#: Page backgrounds: light mode, and dark mode in sphinx-book-theme and pydata-sphinx-theme.
BACKGROUNDS = {"light": ["#ffffff"], "dark": ["#121212", "#14181e"]}


def luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def _variables(block_selector: str) -> dict[str, str]:
    text = CSS.read_text()
    block = re.search(re.escape(block_selector) + r"\s*\{([^}]*)\}", text)
    assert block, f"{block_selector} block missing from {CSS.name}"
    return dict(re.findall(r"(--mleh-[\w-]+):\s*(#[0-9a-fA-F]{6})", block.group(1)))


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_badge_colours_have_at_least_4_5_to_1_contrast_on_the_themes_backgrounds(mode):
    selector = ':root, html[data-theme="light"]' if mode == "light" else 'html[data-theme="dark"]'
    colours = _variables(selector)
    assert set(colours) == {"--mleh-passed", "--mleh-failed"}
    for name, colour in colours.items():
        for background in BACKGROUNDS[mode]:
            ratio = contrast(colour, background)
            assert ratio >= 4.5, f"{mode}: {name} {colour} on {background} is {ratio:.2f}:1"


def test_badges_use_the_handbooks_colours_not_the_themes_on_colour_text_variables():
    text = CSS.read_text()
    assert "--pst-color-success-text" not in text and "--pst-color-danger-text" not in text
    assert re.search(r"\.mleh-passed\s*\{\s*color:\s*var\(--mleh-passed\)", text)
    assert re.search(r"\.mleh-failed\s*\{\s*color:\s*var\(--mleh-failed\)", text)


class _Page(HTMLParser):
    """Images, and headings inside the page's main article."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images: list[dict] = []
        self.headings: list[tuple[int, str]] = []
        self.checks: list[str] = []
        self._article_depth = 0
        self._heading: list | None = None
        self._check: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "article" and "bd-article" in (attrs.get("class") or ""):
            self._article_depth = 1
        elif tag == "article" and self._article_depth:
            self._article_depth += 1
        if self._article_depth and re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        if tag == "p" and "mleh-check" in (attrs.get("class") or ""):
            self._check = [""]

    def handle_endtag(self, tag):
        if tag == "article" and self._article_depth:
            self._article_depth -= 1
        if self._heading and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None
        if self._check is not None and tag == "p":
            self.checks.append(self._check[0])
            self._check = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._check is not None:
            self._check[0] += data


def _pages(outdir: Path):
    for path in sorted(outdir.rglob("*.html")):
        if "_static" in path.parts or "_notebooks" in path.parts:
            continue
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        yield path.relative_to(outdir).as_posix(), parser


@pytest.mark.slow
def test_every_image_has_alt_text_that_is_not_a_file_name(built_site):
    result, _ = built_site
    bad = []
    for name, page in _pages(result.outdir):
        for image in page.images:
            alt = (image.get("alt") or "").strip()
            if not alt or re.search(r"\.(png|jpe?g|svg|gif)$", alt) or "/" in alt.split()[0]:
                bad.append(f"{name}: {image.get('src')} alt={alt!r}")
    assert not bad, "images without real alt text:\n" + "\n".join(bad)


@pytest.mark.slow
def test_headings_start_at_h1_and_never_skip_a_level(built_site):
    result, _ = built_site
    bad = []
    for name, page in _pages(result.outdir):
        levels = [level for level, _ in page.headings]
        if not levels:
            continue
        if levels[0] != 1 or levels.count(1) != 1:
            bad.append(f"{name}: h1 count {levels.count(1)}, first heading h{levels[0]}")
        for (before, _), (level, text) in zip(page.headings, page.headings[1:], strict=False):
            if level > before + 1:
                bad.append(f"{name}: h{before} then h{level} ({text!r})")
    assert not bad, "heading order problems:\n" + "\n".join(bad)


@pytest.mark.slow
def test_check_badges_say_their_result_in_words_not_only_in_colour(built_site):
    result, _ = built_site
    badges = [text for _, page in _pages(result.outdir) for text in page.checks]
    assert badges, "no check badges found on exercise pages"
    unworded = [t for t in badges if not re.search(r"✓ passed|✗ failed|not run", t)]
    assert not unworded, unworded
