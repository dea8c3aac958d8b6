"""CSRF protection on every form and the security headers on every response."""
from __future__ import annotations

from flask import Blueprint, Flask, Request, Response
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()

# Pages load only their own stylesheet: no scripts, no frames, no third-party origins.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# Each header as Werkzeug's Headers stores it (its value checked for line breaks) and its name
# lower-cased to look for.
_CHECKED = tuple((name.lower(), pair) for name, pair in zip(HEADERS, Headers(HEADERS), strict=True))


# The blueprints `exempt` took out of CSRF protection, as flask-wtf keeps them.
_EXEMPT: set[Blueprint] = set()


def exempt(blueprint: Blueprint) -> Blueprint:
    """No CSRF check on the blueprint's requests (the API's: they bring a bearer token, never the
    session cookie)."""
    _EXEMPT.add(blueprint)
    return csrf.exempt(blueprint)


def exempt_from_csrf(app: Flask, request: Request) -> bool:
    """Whether the request is to an exempt blueprint: flask-wtf's first test, after which its
    check returns at once (web/hooks.py's `skipping` then does not run the check at all)."""
    return app.blueprints.get(request.blueprint) in _EXEMPT


def init_app(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops:
        # Behind a reverse proxy every request comes from the proxy's address: take the client's
        # from X-Forwarded-For, or login throttling would put all users in one bucket.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # Those a view set itself stay: one look at the response's few headers, not one per
        # name, and the missing ones appended as they are (checked once, at import).
        pairs = response.headers._list
        present = {name.lower() for name, _ in pairs}
        pairs.extend([pair for lowered, pair in _CHECKED if lowered not in present])
        return response
