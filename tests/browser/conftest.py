"""Shared browser-test harness: the app served live from the test database, headless Debian
Chromium driven by Playwright (never a downloaded browser), and an axe-core accessibility check.

    def test_something(live_server, page, axe_check):
        page.goto(live_server.url + "/refer")
        axe_check(page)

Screenshots go to test-artifacts/ (gitignored) via `screenshot(page, name)`.
"""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from rj import create_app
from rj.config import ROOT

CHROMIUM = os.environ.get("RJ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class LiveServer:
    url: str
    app: object


@pytest.fixture
def live_server(app, base_config):
    """The app on 127.0.0.1:<free port> in a thread, on the same test database, with CSRF on.

    Depends on `app` so the database is cleaned after the test like any other."""
    from werkzeug.serving import make_server

    from rj.extensions import db

    live_app = create_app({**base_config, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None, "TESTING": False})
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="rj-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=live_app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with live_app.app_context():
            db.session.remove()
            db.engine.dispose()


def _chromium_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    problem = _chromium_missing()
    if problem:
        if os.environ.get("RJ_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh phone-sized browser window (390x844), with its own cookies."""
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # JavaScript errors and CSP violations fail the test; HTTP statuses (a form's 400, a missing
    # favicon) are reported by the browser as "Failed to load resource" and are not errors here.
    tab.on("console", lambda msg: errors.append(msg.text)
           if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"browser console errors: {errors}"


def _axe_check(page, *, label: str = "") -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, f"axe found violations on {label or page.url}:\n{results.generate_report()}"


@pytest.fixture
def axe_check():
    """axe_check(page): assert axe-core finds no accessibility violations on the current page."""
    return _axe_check


@pytest.fixture
def screenshot():
    """screenshot(page, name): a full-page PNG in test-artifacts/ for a person to look at."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
