"""Browser tests: Playwright (async API) driving Debian's Chromium against real Spark instances.

Fixtures (each test gets its own; see tests/web/test_harness.py for them in use):

    browser                     Chromium, launched for this test (see "Why per test" below)
    context                     a fresh BrowserContext, viewport 1280x800
    page                        a Page in `context`
    phone_page                  a Page in a fresh phone-sized context (375x812, mobile, touch)
    new_context(*, phone=False, **context_options) -> BrowserContext
    new_page(url=None, *, phone=False, **context_options) -> Page
                                another fresh context and page (a second signed-in user, say);
                                goes to URL when given
    screenshot(page, name, *, full_page=True) -> Path
                                saves build/screenshots/NAME.png
    axe(page, *, context=None, options=None) -> Violations
                                runs the vendored axe-core; `assert await axe(page) == []`
                                fails with one readable line per rule and its targets

The pages send `Content-Security-Policy: script-src 'self'` and the browser enforces it: axe is
evaluated through the DevTools protocol (page.evaluate), which CSP does not govern, so nothing here
needs `bypass_csp` and a page that only works without its CSP fails its test.

Why per test: pytest-aiohttp's fixtures (aiohttp_server, hence start_spark) run on each test's own
event loop (asyncio_default_fixture_loop_scope = "function"), and a Playwright connection belongs to
the loop that started it, so the browser cannot outlive a test. Starting the driver and Chromium
costs about half a second.

Chromium or Playwright missing is an error, not a skip: `make test` installs both. Set
SPARK_SKIP_BROWSER=1 to skip these tests on purpose. They are skipped when SPARK_TEST_DATABASE_URL is
set: CI runs them once, on SQLite, and not again in its PostgreSQL pass (see .ci/run).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",  # the network is closed: no update or safe-browsing calls
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE_JS = HERE / "vendor" / "axe.min.js"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _skip_reason() -> str | None:
    if os.environ.get("SPARK_TEST_DATABASE_URL"):
        return "browser tests run once, on SQLite; SPARK_TEST_DATABASE_URL is set (the PostgreSQL pass)"
    if os.environ.get("SPARK_SKIP_BROWSER") == "1":
        return "SPARK_SKIP_BROWSER=1"
    return None


class _SkippedModule(pytest.Module):
    """A test module under tests/web skipped whole, before it is imported (so before Playwright is)."""

    def collect(self):
        pytest.skip(_skip_reason() or "", allow_module_level=True)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if _skip_reason() is not None and HERE in module_path.resolve().parents:
        return _SkippedModule.from_parent(parent, path=module_path)
    return None


_FAILED = pytest.StashKey[bool]()  # the test body failed: keep a screenshot of each of its pages


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: run `make test`, or `.venv/bin/pip install -e '.[test]'`"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: run `make test`, or `apt-get install chromium`"
    return None


@pytest.fixture
async def _playwright() -> AsyncIterator[Playwright]:
    if problem := _missing():
        pytest.fail(f"browser tests cannot run: {problem} (or set SPARK_SKIP_BROWSER=1 to skip them)")
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    try:
        yield playwright
    finally:
        await playwright.stop()


@pytest.fixture
async def browser(_playwright: Playwright) -> AsyncIterator[Browser]:
    browser = await _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        await browser.close()


@pytest.fixture
async def new_context(
    browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Awaitable[BrowserContext]]]:
    """Open a context of its own (own cookies and storage); all are closed after the test."""
    contexts: list[BrowserContext] = []

    async def open_context(*, phone: bool = False, **options: Any) -> BrowserContext:
        if phone:
            options = {"viewport": PHONE, "is_mobile": True, "has_touch": True, **options}
        context = await browser.new_context(**{"viewport": DESKTOP, **options})
        context.set_default_timeout(10_000)  # a missing element fails the test in seconds, not 30
        contexts.append(context)
        return context

    yield open_context
    if request.node.stash.get(_FAILED, False):
        await _save_failure_screenshots(request.node.name, contexts)
    for context in contexts:
        await context.close()


async def _save_failure_screenshots(test_name: str, contexts: list[BrowserContext]) -> None:
    """What each page showed when the test failed: build/screenshots/failed/TEST[-N].png."""
    pages = [page for context in contexts for page in context.pages]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", test_name)
    for index, page in enumerate(pages):
        path = SCREENSHOTS / "failed" / f"{stem}{f'-{index}' if index else ''}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            await page.screenshot(path=path, full_page=True)
        except Exception as error:  # the page may be gone; the test's own failure is what matters
            print(f"no failure screenshot of {page.url}: {error}")


@pytest.fixture
async def new_page(new_context: Callable[..., Awaitable[BrowserContext]]) -> Callable[..., Awaitable[Page]]:
    """Open a page in a fresh context of its own (a second user, say), at URL when given."""

    async def open_page(url: str | None = None, *, phone: bool = False, **context_options: Any) -> Page:
        page = await (await new_context(phone=phone, **context_options)).new_page()
        if url is not None:
            await page.goto(url)
        return page

    return open_page


@pytest.fixture
async def context(new_context: Callable[..., Awaitable[BrowserContext]]) -> BrowserContext:
    """A fresh desktop-sized context (1280x800) for this test."""
    return await new_context()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    """A page in `context`."""
    return await context.new_page()


@pytest.fixture
async def phone_page(new_page: Callable[..., Awaitable[Page]]) -> Page:
    """A phone-sized page (375x812, mobile, touch) in a fresh context: honours <meta name=viewport>."""
    return await new_page(phone=True)


@pytest.fixture
def screenshot() -> Callable[..., Awaitable[Path]]:
    async def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        if not NAME.fullmatch(name):
            raise ValueError(f"screenshot name {name!r}: letters, digits, '.', '_' and '-' only")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await page.screenshot(path=path, full_page=full_page)
        return path

    return take


class Violation(dict):
    """One axe rule a page breaks, as axe reports it (id, impact, help, helpUrl, nodes)."""

    def __repr__(self) -> str:
        targets = ", ".join(" ".join(map(str, node["target"])) for node in self["nodes"])
        return f"{self['id']} ({self['impact']}): {self['help']} at [{targets}]"


class Violations(list):
    """What axe found; repr is one line per rule, so `assert violations == []` reads well."""

    def __repr__(self) -> str:
        if not self:
            return "[]"
        return "\n".join([f"{len(self)} axe violation(s):", *(f"  {violation!r}" for violation in self)])


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """`assert violations == []`: every rule broken, with its targets, unabridged at any -v level."""
    for found, other in ((left, right), (right, left)):
        if op == "==" and isinstance(found, Violations) and isinstance(other, list) and not other:
            return [f"axe found {len(found)} violation(s), expected none:", *(f"  {v!r}" for v in found)]
    return None


_AXE_RUN = """async ([context, options]) => {
    const results = await axe.run(context ?? document, options ?? {});
    return results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({target: n.target, html: n.html, failureSummary: n.failureSummary})),
    }));
}"""


@pytest.fixture(scope="session")
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8") + "\n//# sourceURL=axe.min.js\n"


@pytest.fixture
def axe(_axe_source: str) -> Callable[..., Awaitable[Violations]]:
    async def run(page: Page, *, context: Any = None, options: dict[str, Any] | None = None) -> Violations:
        """axe-core's checks on PAGE as it is now (all its default rules unless OPTIONS say otherwise)."""
        if not await page.evaluate("typeof window.axe === 'object'"):
            await page.evaluate(_axe_source)  # not a <script> tag: the page's CSP stays in force
        found = await page.evaluate(_AXE_RUN, [context, {"iframes": False, **(options or {})}])
        return Violations(Violation(violation) for violation in found)

    return run
