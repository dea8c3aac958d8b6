"""Bearer tokens are the API's only credential.

The API never reads the session cookie, so a page a user has open in their browser cannot make
requests on their behalf: that is why the API blueprints are exempt from CSRF protection.
"""
from __future__ import annotations

from flask import g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

import engine
from models import User
from web.db import db

from .bodies import check_json_body


def _refuse(reason: str, error: str | None = None) -> Unauthorized:
    challenge = WWWAuthenticate("bearer", {"realm": "liandong", **({"error": error} if error else {})})
    return Unauthorized(reason, www_authenticate=challenge)


def authenticate() -> None:
    """before_request of every API blueprint: the token's user, or 401 with a Bearer challenge."""
    # The WSGI environ rather than request.headers: the same value, a dict look-up on every request.
    scheme, _, token = request.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _refuse("send 'Authorization: Bearer <token>'; create a token on your profile page")
    user = engine.user_for_token(db.session, token)
    if user is None:
        raise _refuse("the token is unknown, revoked, expired, or its user is disabled", "invalid_token")
    g.api_user = user


class SessionInterface(SecureCookieSessionInterface):
    """The cookie session, except for a request that brings a bearer token: the API never reads
    the session cookie (above), so such a request gets Flask's null session instead of decoding
    and re-checking a cookie on each call. A page (the API docs) visited with a browser keeps
    its session as usual."""

    def open_session(self, app, request):
        if request.environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer ":
            return self.make_null_session(app)
        return super().open_session(app, request)


def guard(blueprint) -> None:
    """Set up an API blueprint (once, at import): token authentication before every request, a
    JSON body checked before webargs parses it (bodies.py), and no caching of responses. Engine
    errors are answered as problem+json by web/errors.py, with the status its one table gives
    each of them."""
    blueprint.before_request(authenticate)
    blueprint.before_request(check_json_body)
    blueprint.after_request(_not_cached)


def _not_cached(response):
    # Case data must not linger in shared or browser caches. A view's own policy stays; one walk
    # over the few headers (setdefault walks them twice and raises a KeyError inside).
    for name, _ in response.headers:
        if name.lower() == "cache-control":
            return response
    response.headers.add("Cache-Control", "no-store")
    return response


def api_user() -> User:
    """The user the request's token belongs to."""
    return g.api_user
