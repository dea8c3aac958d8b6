"""Browser tests: Debian's chromium driven by Playwright against the app served on a real port.

The app is the one tests/web uses (seeded SQLite file, the test's FixedClock, CSRF on), served by
werkzeug in a thread. Chromium is the distribution's (`make test` installs it with apt when it is
missing); Playwright never downloads a browser. A failing test leaves a screenshot of every page
it had open in .pytest-artifacts/<test name>/.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT, password_for
from tests.web.conftest import app  # noqa: F401  (the same app fixture as the page tests)

CHROMIUM = Path(os.environ.get("LIANDONG_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / ".pytest-artifacts"
REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 on a free port, served by werkzeug threads until the test ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    # Not a skip: the browser tests are part of `make test`, which installs chromium.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def person(request, chromium, live_server):
    """person(username, locale="zh-CN", **context options) -> a logged-in page in a browser
    context of its own. Without a username the page is not logged in."""
    contexts: dict[str, object] = {}

    def make(username: str | None = None, locale: str = "zh-CN", **options):
        key = f"{username or 'anonymous'}-{len(contexts)}"
        context = chromium.new_context(base_url=live_server, locale=locale, **options)
        context.set_default_timeout(15_000)
        contexts[key] = context
        page = context.new_page()
        page.goto("/login")
        if username:
            page.fill("#username", username)
            page.fill("#password", password_for(username))
            page.click("form.narrow button[type=submit]")
            page.wait_for_url(re.compile(r".*/$"))
        return page

    yield make
    reports = request.node.stash.get(REPORTS, {})
    if any(r.failed for r in reports.values()):
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        for key, context in contexts.items():
            for n, page in enumerate(context.pages):
                page.screenshot(path=str(folder / f"{key}-{n}.png"), full_page=True)
    for context in contexts.values():
        context.close()
