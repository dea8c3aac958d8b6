"""What Flask runs around every request, kept to what the request needs: these run on every
API call, so each call they save is saved on every request.

- `App.ensure_sync`: Flask asks it of every hook and view of every request (and flask-smorest
  and webargs of each decorator layer) whether the function is a coroutine, through `inspect`
  (about ten calls each time, forty to sixty a request). No view or hook here is `async def`;
  a plain function or method is told apart by its code's flags in one attribute read, and
  anything else goes the way Flask goes.
- `skipping` and `pages_only`: request hooks an extension adds that do nothing on some
  requests are not run on them. The rate limiter (flask-limiter) only throttles the login form,
  and API requests bring a bearer token, never a session cookie (web/api/auth.py), so the
  limiter's bookkeeping (resolve and evaluate an empty set of limits, inject no headers, reset
  its context: ~180 calls) and Flask-Login's remember-cookie refresh are skipped for paths under
  /api/; flask-wtf's CSRF check, whose first test returns at once for the blueprints it exempts
  (web/security.py), is skipped for those. The app's `preprocess_request`, `process_response`
  and `do_teardown_request` are Flask's, except that they look each hook up in `hook_skips` and
  keep what `ensure_sync` made of it: a skipped hook costs one test, not a wrapper (~70 calls a
  request before).
- `Response.get_wsgi_headers`: Werkzeug copies a response's headers for the server by adding
  them one by one to a new list, each value checked again for line breaks (~55 calls for an API
  answer's nine). Values were checked when they were set; a response with no Location to make
  absolute, a Content-Length already set and a status that keeps its body gets a plain copy of
  the list. Any other response goes Werkzeug's way.
- `JSONProvider.response` (what `jsonify` and flask-smorest call): the same bytes as Flask's
  (compact separators, a trailing newline; indented in debug mode), written by one encoder made
  once rather than one per call, into a response whose two headers (Content-Type,
  Content-Length) are set together: ~25 calls instead of ~50.
- `App.create_url_adapter` and `Request.close`: the URL adapter made without binding the map
  to the environ again (~60 calls to ~25), and no walk over the files a request did not receive.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from inspect import CO_COROUTINE
from itertools import chain
from typing import Any

from flask import Flask
from flask import Request as FlaskRequest
from flask import Response as FlaskResponse
from flask.globals import request_ctx
from flask.json.provider import DefaultJSONProvider
from flask.sansio.scaffold import _sentinel
from flask.signals import request_tearing_down
from werkzeug.datastructures import Headers
from werkzeug.routing import MapAdapter
from werkzeug.utils import get_content_type
from werkzeug.wsgi import get_host

API_PREFIX = "/api/"


def _wsgi_text(value: str) -> str:
    # A WSGI string is bytes read as latin-1; Werkzeug reads them as UTF-8 (`_wsgi_decoding_dance`).
    return value.encode("latin1").decode(errors="replace")


class Response(FlaskResponse):
    """Flask's response, copied for the server more cheaply (see the module's text)."""

    def get_wsgi_headers(self, environ):
        pairs = self.headers._list
        has_length = False
        for name, _ in pairs:
            lowered = name.lower()
            if lowered == "content-length":
                has_length = True
            elif lowered in ("location", "content-location"):
                return super().get_wsgi_headers(environ)
        status = self.status_code
        if not has_length or status < 200 or status in (204, 304):
            return super().get_wsgi_headers(environ)
        headers = Headers()
        headers._list = pairs.copy()
        return headers


class Request(FlaskRequest):
    """Flask's request, closed more cheaply: only one that received files has any to close
    (Werkzeug walks the empty list of them on every request)."""

    def close(self) -> None:
        if self.__dict__.get("files"):
            super().close()


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, its responses built more cheaply (see the module's text)."""

    _encoder: tuple[tuple, json.JSONEncoder] | None = None
    _content_type: tuple[str, str] | None = None

    def response(self, *args: Any, **kwargs: Any) -> FlaskResponse:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        # The settings may change after the app is made (app.json.sort_keys = False).
        settings = (self.default, self.ensure_ascii, self.sort_keys)
        made = self._encoder
        if made is None or made[0] != settings:
            encoder = json.JSONEncoder(default=self.default, ensure_ascii=self.ensure_ascii, sort_keys=self.sort_keys,
                                       separators=(",", ":"))
            self._encoder = made = (settings, encoder)
        typed = self._content_type
        if typed is None or typed[0] != self.mimetype:
            self._content_type = typed = (self.mimetype, get_content_type(self.mimetype, "utf-8"))
        body = f"{made[1].encode(obj)}\n".encode()
        headers = Headers()
        # Both values are ours, a media type and a number: nothing to check.
        headers._list = [("Content-Type", typed[1]), ("Content-Length", str(len(body)))]
        return self._app.response_class([body], headers=headers)


class App(Flask):
    """Flask with cheaper hook runs, `ensure_sync`, response copy and JSON responses (see the
    module's text)."""

    request_class = Request
    response_class = Response
    json_provider_class = JSONProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # App-wide request hooks not run on some requests (`skipping`): hook -> skip(app, request).
        self.hook_skips: dict[Callable, Callable[[Flask, Request], bool]] = {}
        self._synced: dict[Callable, Callable] = {}
        self._servers: dict[str, str] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            flags = func.__code__.co_flags  # a function, or a method (which reads its function's)
        except AttributeError:
            return super().ensure_sync(func)  # a partial, a callable object
        # Python 3.12's inspect.markcoroutinefunction marks a plain function as a coroutine one.
        if flags & CO_COROUTINE or hasattr(func, "_is_coroutine_marker"):
            return super().ensure_sync(func)
        return func

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Flask's URL adapter for a request, made directly: Werkzeug's `bind_to_environ` reads
        the host a second time and encodes it to IDNA on every request (~60 calls); the host's
        form is kept here (for a few hosts). Anything unusual (trusted hosts, SERVER_NAME, host
        or subdomain matching, a WebSocket upgrade, a host that is not IDNA) goes Flask's way."""
        if (request is None or self.config["TRUSTED_HOSTS"] is not None or self.config["SERVER_NAME"] is not None
                or self.url_map.host_matching or self.subdomain_matching or "HTTP_UPGRADE" in request.environ):
            return super().create_url_adapter(request)
        env = request.environ
        host = request.host = get_host(env, request.trusted_hosts)  # type: ignore[misc]
        server = self._servers.get(host)
        if server is None:
            name, colon, port = host.lower().partition(":")
            try:
                server = f"{name.encode('idna').decode('ascii')}{colon}{port}"
            except UnicodeError:
                return super().create_url_adapter(request)  # BadHost, as Werkzeug answers it
            if len(self._servers) >= 64:  # hosts are the client's to name: keep a few
                self._servers.clear()
            self._servers[host] = server
        script_name, path_info, query = env.get("SCRIPT_NAME"), env.get("PATH_INFO"), env.get("QUERY_STRING")
        return MapAdapter(
            self.url_map, server, "/" if script_name is None else _wsgi_text(script_name),
            self.url_map.default_subdomain or "", env["wsgi.url_scheme"],
            "/" if path_info is None else _wsgi_text(path_info), env["REQUEST_METHOD"],
            None if query is None else _wsgi_text(query),
        )

    def _sync(self, func: Callable) -> Callable:
        # What `ensure_sync` makes of a hook, asked once per hook rather than once per request.
        self._synced[func] = synced = self.ensure_sync(func)
        return synced

    # The three below are Flask's own (3.1), except that a hook `hook_skips` skips for the
    # request is not run and each hook's `ensure_sync` is kept (dictionary look-ups, no calls).
    def preprocess_request(self) -> Any:
        req = request_ctx._get_current_object().request  # type: ignore[attr-defined]
        names = (None, *reversed(req.blueprints))
        for name in names:
            if name in self.url_value_preprocessors:
                for url_func in self.url_value_preprocessors[name]:
                    url_func(req.endpoint, req.view_args)
        skips, synced = self.hook_skips, self._synced
        for name in names:
            if name in self.before_request_funcs:
                for func in self.before_request_funcs[name]:
                    if func in skips and skips[func](self, req):
                        continue
                    rv = (synced[func] if func in synced else self._sync(func))()
                    if rv is not None:
                        return rv
        return None

    def process_response(self, response: Any) -> Any:
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        req = ctx.request
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        skips, synced = self.hook_skips, self._synced
        for name in chain(req.blueprints, (None,)):
            if name in self.after_request_funcs:
                for func in reversed(self.after_request_funcs[name]):
                    if func in skips and skips[func](self, req):
                        continue
                    response = (synced[func] if func in synced else self._sync(func))(response)
        if not self.session_interface.is_null_session(ctx._session):
            self.session_interface.save_session(self, ctx._session, response)
        return response

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        req = request_ctx._get_current_object().request  # type: ignore[attr-defined]
        skips, synced = self.hook_skips, self._synced
        for name in chain(req.blueprints, (None,)):
            if name in self.teardown_request_funcs:
                for func in reversed(self.teardown_request_funcs[name]):
                    if func in skips and skips[func](self, req):
                        continue
                    (synced[func] if func in synced else self._sync(func))(exc)
        request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)


def skipping(app: App, init: Callable[[Flask], Any], skip: Callable[[Flask, Request], bool]) -> None:
    """Run an extension's `init(app)`; the app-wide request hooks it adds are not run on a
    request for which `skip(app, request)` is true (as if each returned at once: an after_request
    hook hands the response on unchanged)."""
    lists = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    known = [list(funcs.get(None, ())) for funcs in lists]
    init(app)
    for funcs, before in zip(lists, known, strict=True):
        for hook in funcs.get(None, ()):
            if hook not in before:
                app.hook_skips[hook] = skip


def under_api(_app: Flask, req: Request) -> bool:
    return req.path.startswith(API_PREFIX)


def pages_only(app: App, init: Callable[[Flask], Any]) -> None:
    """Run an extension's `init(app)`; the app-wide request hooks it adds skip requests under
    /api/."""
    skipping(app, init, under_api)
