"""Playwright (sync API) driving Debian's /usr/bin/chromium against pytest-django's
live_server.

One browser per session; each test gets a fresh context (cookies, storage), so logins
never leak between tests. Pages speak English (the browser's Accept-Language), so the
assertions read the English strings. Screenshots go to tests/browser/screenshots/.
"""

from pathlib import Path

import pytest

from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which
# this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


def _page(browser, live_server, width: int, height: int):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = _page(browser, live_server, 1280, 900)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context, page = _page(browser, live_server, 375, 812)
    yield page
    context.close()


@pytest.fixture
def login_as():
    """login_as(page, user) signs in through the real login form."""

    def _login(page, user):
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.locator("form:has(input[name=password]) [type=submit]").click()
        assert "/login/" not in page.url, f"login as {user.username} failed: still on {page.url}"
        return page

    return _login


@pytest.fixture
def screenshot(request):
    """screenshot(page, name) saves a full-page PNG named after the test."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
