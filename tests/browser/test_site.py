"""The built site in headless Chromium, with the network off: pages load cleanly, maths renders,
solutions toggle, search works, phones fit."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from .conftest import ALLOWED_EXTERNAL_HOSTS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The landing page and one page of each kind.
PAGES = {
    "landing": "index.html",
    "role": "docs/role/what-ml-engineers-do.html",
    "duty": "docs/duties/designing-models.html",
    "skill": "docs/skills/ml-concepts.html",
    "route": "docs/routes/apprenticeships.html",
    "notebook": "notebooks/decision-trees.html",
    "exercise": "exercises/decision-trees.html",
    "learners": "docs/learners/checks-and-hints.html",
    "instructors": "docs/instructors/index.html",
    "glossary": "docs/glossary.html",
}
EXERCISE = PAGES["exercise"]
#: A question's collapsed model answer (not the "How your answers are checked" toggle).
SOLUTION = "details.mleh-solution:not(.mleh-helpers)"


@pytest.mark.parametrize("kind", PAGES)
def test_page_loads_without_console_errors_or_failed_requests(desktop, site_url, kind):
    page, log = open_page(desktop, site_url + PAGES[kind])
    page.wait_for_load_state("networkidle")
    assert page.locator("article.bd-article h1").count() >= 1, f"{kind}: no h1 in the main content"
    assert not log.console_errors, f"{kind}: console errors {log.console_errors}"
    assert not log.failed_requests, f"{kind}: failed requests {log.failed_requests}"
    foreign = {urlparse(u).hostname for u in log.external_requests} - ALLOWED_EXTERNAL_HOSTS
    assert not foreign, f"{kind}: asks third parties for {sorted(log.external_requests)}"


#: Pages with maths, one of each kind of source: notebook (nbsphinx), exercise, MyST prose.
MATHS_PAGES = {
    "notebook": "notebooks/probability.html",
    "exercise": EXERCISE,
    "prose": "docs/skills/ml-concepts.html",
}


@pytest.mark.parametrize("kind", MATHS_PAGES)
def test_maths_renders_with_the_network_off(desktop, site_url, kind):
    page, log = open_page(desktop, site_url + MATHS_PAGES[kind])
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")  # resolves once the page is typeset
    formulas = page.locator("article .math")
    assert formulas.count() >= 3, f"{kind}: expected a page with maths"
    unrendered = page.evaluate(
        """() => [...document.querySelectorAll('article .math')]
                 .filter((e) => !e.querySelector('mjx-container')).map((e) => e.textContent)"""
    )
    assert not unrendered, f"{kind}: formulas left as TeX: {unrendered[:5]}"
    prose = page.evaluate(
        "() => [...document.querySelectorAll('article p, article li, article td')]"
        ".map((e) => e.innerText).join('\\n')"
    )
    assert "\\(" not in prose and "\\)" not in prose, f"{kind}: raw \\( in the text"
    assert not log.external_requests, f"{kind}: asked the network for {log.external_requests}"
    assert not log.failed_requests, f"{kind}: {log.failed_requests}"  # MathJax's files and fonts


def test_solution_is_hidden_until_its_toggle_is_clicked(desktop, site_url):
    page, _ = open_page(desktop, site_url + EXERCISE)
    solution = page.locator(SOLUTION).first
    answer = solution.locator(".nbinput").first
    assert solution.get_attribute("open") is None
    assert not answer.is_visible(), "the model answer shows before the toggle is clicked"
    solution.locator("summary").click()
    assert answer.is_visible()
    assert "def gini" in answer.inner_text()


def test_without_javascript_solutions_are_still_reachable_and_the_page_readable(
    no_javascript, site_url
):
    page, log = open_page(no_javascript, site_url + EXERCISE)
    assert page.locator("article.bd-article h1").first.is_visible()
    assert page.locator(".mleh-summary").is_visible()
    assert page.get_by_role("link", name="Student notebook (.ipynb)").is_visible()
    solution = page.locator(SOLUTION).first
    answer = solution.locator(".nbinput").first
    assert not answer.is_visible()
    solution.locator("summary").click()
    assert answer.is_visible(), "a solution cannot be opened without JavaScript"
    # Only the theme's preloaded scripts are refused ("csp": JavaScript is off); all else loads.
    assert not [r for r in log.failed_requests if not r.endswith(": csp")], log.failed_requests


def test_search_finds_the_decision_tree_exercise_for_gini_impurity(desktop, site_url):
    page, log = open_page(desktop, site_url + "search.html?q=Gini+impurity")
    hit = page.locator('#search-results a[href*="exercises/decision-trees"]').first
    hit.wait_for(state="visible", timeout=30_000)
    # The status line comes last: its absence was how Sphinx's en_GB catalogue broke the page.
    page.get_by_text(re.compile(r"Search finished, found \d+ pages")).wait_for(timeout=30_000)
    assert not log.console_errors


def test_search_summaries_quote_the_page_not_a_print_only_list_of_contents(desktop, site_url):
    # Sphinx's search quotes each result from the page's role="main" element, where the theme
    # kept a print-only copy of the title and contents (summaries began "...Contents"); the
    # extension's layout.html leaves it out.
    page, _ = open_page(desktop, site_url + "search.html?q=Gini+impurity")
    page.get_by_text(re.compile(r"Search finished, found \d+ pages")).wait_for(timeout=30_000)
    summaries = page.locator("#search-results p.context").all_inner_texts()
    assert summaries and not [s for s in summaries if "Contents" in s], summaries


VISIBLE_SEARCH = """() => [...document.querySelectorAll('.search-button__button')].filter((e) => {
  const box = e.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(e).visibility !== 'hidden';
}).length"""


def test_one_search_box_on_a_desktop_and_a_search_button_on_a_phone(desktop, phone, site_url):
    page, _ = open_page(desktop, site_url + PAGES["learners"])
    assert page.evaluate(VISIBLE_SEARCH) == 1, "a desktop page shows more than one search box"
    page, _ = open_page(phone, site_url + PAGES["learners"])
    assert page.evaluate(VISIBLE_SEARCH) == 1, "a phone shows no way (or two ways) to search"


@pytest.mark.parametrize("kind", PAGES)
def test_no_page_scrolls_sideways_on_a_375_pixel_wide_phone(phone, site_url, kind):
    page, _ = open_page(phone, site_url + PAGES[kind])
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{kind}: {widths[0]} px of content in a {widths[1]} px window"


def _rgb(text: str) -> tuple[float, float, float]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", text)[:3])


def _luminance(rgb) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


COLOURS = """(selector) => {
  const el = document.querySelector(selector);
  let bg = el, colour = getComputedStyle(el).color;
  while (bg && ['rgba(0, 0, 0, 0)', 'transparent'].includes(getComputedStyle(bg).backgroundColor)) {
    bg = bg.parentElement;
  }
  return [colour, bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)'];
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_check_badges_and_text_have_enough_contrast_in_both_modes(desktop, site_url, mode):
    page, _ = open_page(desktop, site_url + EXERCISE)
    page.evaluate(f"() => document.documentElement.setAttribute('data-theme', '{mode}')")
    # Links in the text (the headings' "¶" anchors show only on hover, in the theme's accent).
    for selector in (".mleh-check.mleh-passed", ".mleh-summary", "main p", "main p a"):
        colour, background = page.evaluate(COLOURS, selector)
        ratio = contrast(_rgb(colour), _rgb(background))
        assert ratio >= 4.5, f"{mode}: {selector} is {colour} on {background}, {ratio:.2f}:1"


def test_links_in_the_text_are_underlined_not_only_coloured(desktop, site_url):
    page, _ = open_page(desktop, site_url + PAGES["learners"])
    decoration = page.evaluate(
        "() => getComputedStyle(document.querySelector('main article p a')).textDecorationLine"
    )
    assert "underline" in decoration


def test_screenshots_of_the_landing_and_an_exercise_page(desktop, phone, site_url, artifacts):
    for context, suffix in ((desktop, "desktop"), (phone, "phone")):
        for name, path in (("landing", "index.html"), ("exercise", EXERCISE)):
            page, _ = open_page(context, site_url + path)
            if name == "exercise":  # the first question: its solution toggle and check badges
                page.locator(SOLUTION).first.scroll_into_view_if_needed()
            target = artifacts / f"{name}-{suffix}.png"
            page.screenshot(path=str(target), full_page=(name == "landing"))
            assert target.stat().st_size > 10_000
