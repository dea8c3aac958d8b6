"""web/hooks.py: Flask's per-request machinery kept to what a request needs. Hooks an extension
adds for the pages do not run on API requests (and hand their response on untouched), and the
cheaper `ensure_sync` tells functions apart exactly as Flask does."""
from __future__ import annotations

import functools

from flask import Flask, request

from web.hooks import App, pages_only

from .api_helpers import bearer, token_for


def test_page_hooks_skip_api_requests(app):
    ran: list[tuple[str, str]] = []

    def init(target):
        @target.before_request
        def before():
            ran.append(("before", request.path))

        @target.after_request
        def after(response):
            response.headers["X-Page-Hook"] = "1"
            return response

        @target.teardown_request
        def teardown(_exc):
            ran.append(("teardown", "-"))

    pages_only(app, init)
    client = app.test_client(use_cookies=False)
    api = client.get("/api/v1/cases", headers=bearer(token_for(app, "samr_handler")))
    assert api.status_code == 200 and "X-Page-Hook" not in api.headers and ran == []
    # The API's own headers are all there.
    assert api.headers["Cache-Control"] == "no-store" and api.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["X-Page-Hook"] == "1"
    assert ran == [("before", "/login"), ("teardown", "-")]


def _outcome(app, func) -> str:
    try:
        return "as is" if app.ensure_sync(func) is func else "wrapped"
    except RuntimeError:  # a coroutine function without asgiref installed
        return "refused"


def test_ensure_sync_tells_functions_apart_as_flask_does():
    def plain():
        return 1

    async def coroutine():
        return 2

    class Thing:
        def method(self):
            return 3

        async def async_method(self):
            return 4

    thing = Thing()
    marked = functools.wraps(plain)(lambda: 5)
    marked._is_coroutine_marker = object()  # what Python 3.12's inspect.markcoroutinefunction sets
    functions = (plain, functools.partial(plain), thing.method, coroutine, thing.async_method, marked)
    ours, flasks = App(__name__), Flask(__name__)
    assert [_outcome(ours, f) for f in functions] == [_outcome(flasks, f) for f in functions]
    assert [_outcome(ours, f) for f in functions[:3]] == ["as is"] * 3
    assert "as is" not in {_outcome(ours, f) for f in functions[3:5]}
