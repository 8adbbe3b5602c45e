"""Browser-test fixtures: one live app (threaded werkzeug server) and one headless Debian Chromium.

One Dash app per process (Dash keeps pages and callbacks in globals), so each test
gets a fresh copy of the seeded demo database swapped in with ``use_database``.
Screenshots go to tests/artifacts/ (git-ignored, kept by CI as artifacts).
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
from tests.conftest import PASSWORDS, login  # noqa: F401  (re-exported for page tests)


@pytest.fixture(scope="session")
def live_server(flask_app):
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_for(browser, live_server, app_db):
    """``page_for("leader", width=1366, height=768)`` → a signed-in Playwright page."""
    contexts = []

    def make(username: str | None = "leader", width: int = 1366, height: int = 768):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.base_url = live_server
        if username:
            page.goto(live_server + "/login")
            page.fill("#username", username)
            page.fill("#password", PASSWORDS[username])
            page.click("#login-submit")
            page.wait_for_selector("#app-navbar")
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_horizontal_overflow(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"page overflows horizontally by {overflow}px"


def wait_js(page, expression: str, arg=None, timeout: float = 45.0):
    """Poll ``expression`` (a JS function source) with page.evaluate until it returns something truthy.

    Used after in-place updates on the branch page: Playwright's own selector waits (which poll in
    its isolated world) were seen to stall there on a loaded CI machine while plain evaluate calls
    kept answering; polling from Python with evaluate does not depend on them.
    """
    import time

    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {expression[:120]} {arg!r}")
        time.sleep(0.25)


def wait_text(page, selector: str, text: str, timeout: float = 45.0):
    """Wait until the element ``selector`` exists and its text contains ``text``."""
    return wait_js(page, "([s, t]) => { const e = document.querySelector(s); return !!e && e.innerText.includes(t); }",
                   [selector, text], timeout)
