"""Fixtures for the page's browser tests: the real server, Debian's Chromium through Playwright, and pages
that record every console message and page error so each test can insist there were none.

They skip with a message when Chromium or the playwright package is missing, unless
DIGITPAD_REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure. DIGITPAD_BASE_URL points
them at a server that is already running instead of starting one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.app.serving import free_port, start, uvicorn

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DIGITPAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: runs the page in Chromium through Playwright")


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def _no_browser(reason: str) -> None:
    message = f"browser tests need Chromium and Playwright: {reason}"
    if os.environ.get("DIGITPAD_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (DIGITPAD_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(message)


@contextmanager
def _serve(log: Path, env: dict[str, str]) -> Iterator[str]:
    """Run the app with uvicorn (``make run``'s command) on a free loopback port, with ``env`` added; yields its URL."""
    port = free_port()
    server = start(uvicorn(port), {**os.environ, **env}, port, log, timeout=90)
    try:
        yield server.url
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port (or DIGITPAD_BASE_URL when set).

    Drawings saved from the page go to a temporary data folder, never to the working tree's ./data.
    """
    reason = _missing_browser()
    if reason:
        _no_browser(reason)
    given = os.environ.get("DIGITPAD_BASE_URL")
    if given:
        yield given.rstrip("/")
        return
    folder = tmp_path_factory.mktemp("server")
    env = {"DIGITPAD_FEEDBACK": "on", "DIGITPAD_DATA_DIR": str(folder / "data"), "DIGITPAD_DATABASE_URL": ""}
    with _serve(folder / "uvicorn.log", env) as url:
        yield url


@pytest.fixture(scope="session")
def base_url_feedback_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server with DIGITPAD_FEEDBACK=off (a read-only deployment)."""
    reason = _missing_browser()
    if reason:
        _no_browser(reason)
    folder = tmp_path_factory.mktemp("server-feedback-off")
    with _serve(folder / "uvicorn.log", {"DIGITPAD_FEEDBACK": "off", "DIGITPAD_DATA_DIR": str(folder)}) as url:
        yield url


@pytest.fixture(scope="session")
def browser(base_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """Console messages and page errors of one page; `allow` admits expected ones by substring."""

    def __init__(self, page) -> None:
        self.messages: list[str] = []
        self.errors: list[str] = []
        self.allowed: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.errors.append(f"page error: {err}"))

    def _on_console(self, msg) -> None:
        text = f"console.{msg.type}: {msg.text}"
        self.messages.append(text)
        if msg.type in ("error", "assert"):
            self.errors.append(text)

    def allow(self, substring: str) -> None:
        self.allowed.append(substring)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


def _open(browser, base_url: str, options: dict):
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console(page)
    page.goto(base_url + "/")
    # The model list has arrived once the model card shows facts.
    page.wait_for_selector("#model-card dl.facts")
    return context, page, console


@pytest.fixture
def desktop(browser, base_url: str):
    """A 1280×900 page; the test fails if it logged an error."""
    context, page, console = _open(browser, base_url, DESKTOP)
    page.console = console
    yield page
    context.close()
    assert not console.unexpected(), "errors in the browser console:\n" + "\n".join(console.unexpected())


@pytest.fixture
def phone(browser, base_url: str):
    """A 360×740 touch screen at devicePixelRatio 3; the test fails if it logged an error."""
    context, page, console = _open(browser, base_url, PHONE)
    page.console = console
    yield page
    context.close()
    assert not console.unexpected(), "errors in the browser console:\n" + "\n".join(console.unexpected())
