"""Headless Chromium (Debian's package, never a downloaded browser) against the built site.

The site is the session's one clean build (``built_site`` in ``tests/conftest.py``), served by
``http.server`` on 127.0.0.1 in a thread. The network is off for the browser: every request that
leaves 127.0.0.1 fails (as on a train) and is recorded, so the tests show that pages work offline,
MathJax included. To try them against a site already built (say ``_build/html``), set
``MLE_HANDBOOK_SITE=_build/html``.

Without ``/usr/bin/chromium`` every browser test is skipped with a message saying how to enable
them, and the rest of the suite still runs. CI sets ``MLE_HANDBOOK_REQUIRE_BROWSER=1``, which makes
a missing browser an error instead, and every run that collects browser tests ends with a line
saying how many of them ran.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT

#: Debian's chromium; MLE_HANDBOOK_CHROMIUM names another system browser (say chromium-browser).
CHROMIUM = Path(os.environ.get("MLE_HANDBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
#: Third-party hosts a page may ask for: none (MathJax is served with the site).
ALLOWED_EXTERNAL_HOSTS: set[str] = set()
#: Set (to 1) by CI: a missing browser fails the browser tests instead of skipping them.
REQUIRE_BROWSER = "MLE_HANDBOOK_REQUIRE_BROWSER"


def browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER, "") not in ("", "0")


def _unavailable(reason: str):
    """Skip (a learner's machine) or fail (CI, with MLE_HANDBOOK_REQUIRE_BROWSER=1)."""
    if browser_required():
        pytest.fail(f"{REQUIRE_BROWSER} is set, so the browser tests must run, but {reason}")
    pytest.skip(reason)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Skips the browser tests (before any build) when Debian's chromium is not installed."""
    if not CHROMIUM.exists():
        _unavailable(
            f"browser tests need Debian's chromium at {CHROMIUM}: install it with "
            "`sudo apt install chromium` (CI's .ci/run does) and run them again"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("browser tests need the playwright package (in the lock): run `make venv`")
    return CHROMIUM


@pytest.fixture(scope="session")
def site_dir(chromium, request) -> Path:
    """The session's clean build, or the already built site named by MLE_HANDBOOK_SITE."""
    existing = os.environ.get("MLE_HANDBOOK_SITE")
    if existing:
        return Path(existing).resolve()
    result, _ = request.getfixturevalue("built_site")
    if not (result.outdir / "index.html").is_file():
        pytest.fail("the site build produced no index.html:\n" + result.output[-3000:])
    return result.outdir


@pytest.fixture(scope="session")
def site_url(site_dir):
    """The built site, served on 127.0.0.1 for the whole session."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class PageLog:
    """What went wrong while a page loaded."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)


def _network_off(log: PageLog, route) -> None:
    """Serve the site; fail every other request, as a browser without network would."""
    url = route.request.url
    if urlparse(url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
        return
    log.external_requests.append(url)
    route.abort("internetdisconnected")


def open_page(context, url: str):
    """A new page at ``url``, with its console errors and failed requests recorded."""
    log = PageLog()
    page = context.new_page()
    page.route("**/*", functools.partial(_network_off, log))
    page.on(
        "console",
        lambda message: (
            log.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: log.console_errors.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: log.failed_requests.append(f"{request.url}: {request.failure}"),
    )
    page.on(
        "response",
        lambda response: (
            log.failed_requests.append(f"{response.url}: HTTP {response.status}")
            if response.status >= 400
            else None
        ),
    )
    page.goto(url, wait_until="load")
    return page, log


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield context
    context.close()


@pytest.fixture
def no_javascript(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    yield context
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


_BROWSER_TESTS: set[str] = set()


def pytest_collection_modifyitems(items) -> None:
    _BROWSER_TESTS.update(item.nodeid for item in items if item.get_closest_marker("browser"))


def pytest_terminal_summary(terminalreporter) -> None:
    """Say how many browser tests ran: a green run with all of them skipped proves nothing."""
    counts: Counter[str] = Counter()
    for outcome in ("passed", "failed", "xfailed", "xpassed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "nodeid", None) in _BROWSER_TESTS:
                counts[outcome] += 1
    if not counts:
        return
    ran = sum(counts[o] for o in ("passed", "failed", "xfailed", "xpassed"))
    where = CHROMIUM if CHROMIUM.exists() else f"no browser at {CHROMIUM}"
    expected_failures = counts["xfailed"] + counts["xpassed"]
    terminalreporter.write_line(
        f"Browser tests ({where}): {ran} ran ({counts['passed']} passed, "
        f"{counts['failed']} failed"
        + (f", {expected_failures} expected to fail" if expected_failures else "")
        + f"), {counts['error']} errors, {counts['skipped']} skipped"
        + (f"; {REQUIRE_BROWSER} is set" if browser_required() else "")
    )
