"""The cheaper framework paths give what Flask's own give: the security headers' middleware adds
exactly the headers a response lacks, the JSON provider's kept encoder writes Flask's bytes, and
ensure_sync keeps a bounded set of plain functions."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from flask import Flask, Response

from web.hooks import App
from web.security import HEADERS, SecurityHeaders


def _headers_of(app: Flask, path: str) -> list[tuple[str, str]]:
    return list(app.test_client().get(path).headers.items())


def test_the_middleware_adds_what_a_response_lacks_and_keeps_a_view_s_own():
    app = Flask(__name__)

    @app.get("/plain")
    def plain():
        return "text"

    @app.get("/own")
    def own():
        return Response("x", mimetype="text/plain", headers={"X-Frame-Options": "SAMEORIGIN", "Cache-Control": "max-age=5"})

    @app.get("/json")
    def as_json():
        return {"a": 1}

    guard = app.wsgi_app = SecurityHeaders(app.wsgi_app, HEADERS)
    guard.add("Strict-Transport-Security", "max-age=60")
    guard.no_store_html = True
    page = dict(_headers_of(app, "/plain"))
    assert {name: page[name] for name in HEADERS} == HEADERS
    assert page["Cache-Control"] == "no-store" and page["Strict-Transport-Security"] == "max-age=60"
    own = _headers_of(app, "/own")
    assert [value for name, value in own if name == "X-Frame-Options"] == ["SAMEORIGIN"]
    assert [value for name, value in own if name == "Cache-Control"] == ["max-age=5"]
    assert "Cache-Control" not in dict(_headers_of(app, "/json"))  # not a page
    assert dict(_headers_of(app, "/nothing-here"))["X-Content-Type-Options"] == "nosniff"


def test_json_responses_are_flask_s_bytes():
    ours, flask = App("ours"), Flask("flask")
    values = [{"b": 1, "a": [1.5, "中文", None, True]}, date(2026, 1, 2), {"d": Decimal("1.20"), "u": UUID(int=5)}, []]
    for value in values:
        with ours.app_context(), flask.app_context():
            assert ours.json.response(value).get_data() == flask.json.response(value).get_data()
            assert ours.json.dumps(value, indent=2) == flask.json.dumps(value, indent=2)
    ours.json.sort_keys = False  # changed after the encoder was kept
    with ours.app_context():
        assert ours.json.response({"b": 1, "a": 2}).get_data() == b'{"b":1,"a":2}\n'


def test_ensure_sync_keeps_a_bounded_set_of_plain_functions():
    app = App("bounded")
    app.KEPT_PLAIN = 3
    for _ in range(10):
        def made_per_request():
            return None
        assert app.ensure_sync(made_per_request) is made_per_request
        assert len(app.plain_functions) <= 3
