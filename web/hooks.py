"""What Flask runs around every request, kept to what the request needs: these run on every
API call, so each call they save is saved on every request.

- `App.ensure_sync`: Flask asks it of every hook and view of every request (and flask-smorest
  and webargs of each decorator layer) whether the function is a coroutine, through `inspect`
  (about ten calls each time, forty to sixty a request). Flask's answer for a function is kept:
  one it handed back unchanged (not a coroutine function) is found in a set the next time.
- `pages_only`: the request hooks an extension adds for the pages alone. The rate limiter
  (flask-limiter) only throttles the login form, and API requests bring a bearer token, never a
  session cookie (web/api/auth.py), so the limiter's bookkeeping (resolve and evaluate an empty
  set of limits, inject no headers, reset its context: ~180 calls) and Flask-Login's
  remember-cookie refresh do nothing on them; they are skipped for paths under /api/.
- `JSONProvider.dumps`: `json.dumps` with any option makes a new encoder for every call; the
  compact one that `jsonify` (and flask-smorest's responses) asks for is made once per set of
  the provider's options and kept. Any other call goes Flask's way.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

API_PREFIX = "/api/"


_COMPACT = {"separators": (",", ":")}  # what Flask's `response` passes out of debug mode


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, its compact encoder kept (see the module's text)."""

    _kept: tuple[tuple, json.JSONEncoder] | None = None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs != _COMPACT:
            return super().dumps(obj, **kwargs)
        # The options may change after the app is made (app.json.sort_keys = False).
        options = (self.default, self.ensure_ascii, self.sort_keys)
        kept = self._kept
        if kept is None or kept[0] != options:
            encoder = json.JSONEncoder(default=self.default, ensure_ascii=self.ensure_ascii,
                                       sort_keys=self.sort_keys, **_COMPACT)
            self._kept = kept = (options, encoder)
        return kept[1].encode(obj)


class App(Flask):
    """Flask with a cheaper `ensure_sync` and JSON encoding (see the module's text)."""

    json_provider_class = JSONProvider

    #: How many functions `ensure_sync` keeps; past that the set starts again (a closure made
    #: for one request, as after_this_request takes, must not pile up).
    KEPT_PLAIN = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_functions: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        plain = self.plain_functions
        try:
            if func in plain:
                return func
        except TypeError:  # an unhashable callable object
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func:
            if len(plain) >= self.KEPT_PLAIN:
                plain.clear()
            plain.add(func)
        return synced


def _skip_api(hook: Callable, passes_through: bool) -> Callable:
    @wraps(hook)
    def for_pages(*args):
        if request.path.startswith(API_PREFIX):
            return args[0] if passes_through else None
        return hook(*args)

    return for_pages


def pages_only(app: Flask, init: Callable[[Flask], Any]) -> None:
    """Run an extension's `init(app)`; the app-wide request hooks it adds skip API requests (an
    after_request hook hands the response on unchanged)."""
    lists = ((app.before_request_funcs, False), (app.after_request_funcs, True), (app.teardown_request_funcs, False))
    known = [list(funcs.get(None, ())) for funcs, _ in lists]
    init(app)
    for (funcs, passes_through), before in zip(lists, known, strict=True):
        funcs[None] = [hook if hook in before else _skip_api(hook, passes_through) for hook in funcs.get(None, ())]
