"""Browser tests: Chromium driven by Playwright against pytest-django's live server.

Fixtures for every browser test:
- ``browser``: one headless Chromium for the session (skipped, or failed under
  GALENIC_REQUIRE=browser, when /usr/bin/chromium is missing);
- ``page``: a fresh browser context and page per test (own cookies), base URL = live server;
- ``login(page, username, password)``: logs in through the login page and waits for home.

Mark browser tests with ``@pytest.mark.browser``; they need ``live_server`` (which makes the
database transactional, so data the test creates is visible to the server thread).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _service_unavailable(config: pytest.Config) -> Callable[[str, str], None]:
    """tests/conftest.py's service_unavailable (conftest modules share one import name)."""
    root = Path(__file__).resolve().parent.parent / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "/").resolve() == root:
            return plugin.service_unavailable  # type: ignore[no-any-return]
    raise RuntimeError(f"{root} is not loaded")


@pytest.fixture(scope="session")
def browser(pytestconfig: pytest.Config) -> Iterator[Any]:
    if not CHROMIUM.exists():
        _service_unavailable(pytestconfig)(
            "browser", f"{CHROMIUM} is not installed (apt-get install chromium)"
        )
    # Playwright's sync API runs an event loop in this thread (marked as running between its
    # calls); Django's ORM calls made by the test itself (fixtures, assertions) are still
    # synchronous and safe. Only while the browser lives: browser tests run last
    # (tests/conftest.py) and the loop is closed when it ends.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: Any) -> Iterator[Any]:
    # A 10-inch tablet in landscape, the shop floor's main screen.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def login() -> Callable[[Any, str, str], None]:
    def _login(page: Any, username: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("User ID").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("domcontentloaded")

    return _login


@pytest.fixture
def one_request_at_a_time(live_server: Any) -> Iterator[threading.RLock]:
    """Serialise the live server's requests, for tests where a device (the gateway) talks to the
    server while the browser does. With SQLite in memory every request thread of the live server
    shares the test's one connection, so two requests in flight would interleave transactions on
    it. The test takes the same lock around its own queries while the server is busy."""
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    lock = threading.RLock()

    def serialised(environ: Any, start_response: Any) -> Any:
        with lock:
            return app(environ, start_response)

    httpd.set_app(serialised)
    try:
        yield lock
    finally:
        httpd.set_app(app)
