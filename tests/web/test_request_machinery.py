"""web/hooks.py's cheaper request machinery gives what Flask's and Werkzeug's own give: the same
JSON bytes and headers, the same headers handed to the server, the same hooks run."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask, jsonify, redirect
from flask import Response as FlaskResponse
from werkzeug.test import EnvironBuilder

from web.hooks import App

from .api_helpers import bearer, token_for

VALUES = [{"b": 1, "a": [1, 2.5, None, True]}, [], "text", {"中文": "é\u2028"}, None, 0,
          {"when": date(2026, 1, 2)}, {"amount": Decimal("1.50")}, {"nested": {"z": {}, "y": []}}]


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("debug", [False, True])
def test_json_responses_are_flasks(value, debug):
    ours, flasks = App(__name__), Flask(__name__)
    for app in (ours, flasks):
        app.debug = debug
    with ours.app_context():
        mine = jsonify(value)
    with flasks.app_context():
        theirs = jsonify(value)
    assert mine.get_data() == theirs.get_data()
    assert list(mine.headers.items()) == list(theirs.headers.items()) and mine.status == theirs.status


def test_json_settings_changed_later_apply():
    app = App(__name__)
    with app.app_context():
        assert jsonify({"b": 1, "a": 2}).get_data() == b'{"a":2,"b":1}\n'
        app.json.sort_keys = False
        app.json.ensure_ascii = False
        assert jsonify({"b": "中", "a": 2}).get_data() == '{"b":"中","a":2}\n'.encode()


def _responses():
    yield "json", lambda: jsonify({"a": 1})
    yield "text", lambda: FlaskResponse("hi", headers={"X-A": "1", "x-b": "2"})
    yield "location", lambda: redirect("/somewhere/ü")
    yield "content-location", lambda: FlaskResponse("x", headers={"Content-Location": "/é"})
    yield "no content", lambda: FlaskResponse("", status=204)
    yield "not modified", lambda: FlaskResponse("x", status=304, headers={"Content-Type": "text/plain"})
    yield "informational", lambda: FlaskResponse("x", status=103)
    yield "streamed", lambda: FlaskResponse(iter([b"a", b"b"]))
    yield "list body", lambda: FlaskResponse([b"ab", b"c"])
    yield "error", lambda: FlaskResponse("no", status=404, headers=[("X-A", "1"), ("X-A", "2")])


@pytest.mark.parametrize(("name", "make"), list(_responses()), ids=[name for name, _ in _responses()])
def test_headers_for_the_server_are_werkzeugs(name, make):
    app = App(__name__)
    environ = EnvironBuilder(path="/x", base_url="http://example.org/app/").get_environ()
    with app.test_request_context(environ_overrides=environ):
        response = app.make_response(make())
        assert type(response) is app.response_class
        mine = response.get_wsgi_headers(environ)
        theirs = FlaskResponse.get_wsgi_headers(response, environ)
        assert mine.to_wsgi_list() == theirs.to_wsgi_list()
        mine.add("X-Later", "1")  # a copy: the response keeps its own headers
        assert "X-Later" not in response.headers


def test_api_requests_skip_page_hooks_and_the_csrf_check(app):
    client = app.test_client(use_cookies=False)
    token = bearer(token_for(app, "samr_handler"))
    # An API resource: no CSRF token needed, no session cookie set, every header there.
    created = client.post("/api/v1/cases", json={"title": "无需令牌"}, headers=token)
    assert created.status_code == 201, created.get_json()
    assert "Set-Cookie" not in created.headers
    assert created.headers["Cache-Control"] == "no-store" and created.headers["X-Frame-Options"] == "DENY"
    # A page's form still needs its CSRF token.
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post("/login", data={"username": "x", "password": "y"})
    assert refused.status_code == 400
    # No route for the method: flask-wtf checks nothing, and the answer is the API's 405.
    docs = client.post("/api/v1/docs", headers=token)
    assert docs.status_code == 405 and docs.mimetype == "application/problem+json"


def test_the_language_choice_is_remembered_however_the_query_spells_it(app):
    client = app.test_client()
    for query in ("lang=en", "l%61ng=en"):
        client.get(f"/login?{query}")
        with client.session_transaction() as session:
            assert session["lang"] == "en"
            session.pop("lang")
    client.get("/login?language=en")
    with client.session_transaction() as session:
        assert "lang" not in session


ENVIRONS = [
    {},
    {"base_url": "https://Example.ORG:443/app/"},
    {"base_url": "http://例子.测试:8080/"},
    {"path": "/a%20b/ü", "query_string": "x=%C3%BC&y"},
    {"headers": {"Host": "Other.example:81"}},
    {"headers": {"Connection": "Upgrade", "Upgrade": "websocket"}},
    {"method": "POST", "path": "/api/v1/cases"},
]


@pytest.mark.parametrize("options", ENVIRONS, ids=repr)
def test_url_adapters_are_flasks(options):
    app = App(__name__)
    environ = EnvironBuilder(**options).get_environ()
    for overrides in ({}, {"SCRIPT_NAME": None}, {"PATH_INFO": ""}, {"QUERY_STRING": None}):
        env = {**environ, **overrides}
        env = {key: value for key, value in env.items() if value is not None}
        mine = app.create_url_adapter(app.request_class(env))
        theirs = Flask.create_url_adapter(app, app.request_class(env))
        fields = ("server_name", "script_name", "subdomain", "url_scheme", "path_info", "default_method",
                  "query_args", "websocket")
        assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
