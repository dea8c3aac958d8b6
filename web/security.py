"""CSRF protection on every form and the security headers on every response."""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()

# Pages load only their own stylesheet: no scripts, no frames, no third-party origins.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """WSGI middleware that adds each header of `added` a response lacks (a view's own, such as
    the evidence downloads' sandboxing CSP, stay) to the header list the server receives, and
    with `no_store_html` a `Cache-Control: no-store` to an HTML page without a policy of its own
    (web/hardening.py sets both). Every response passes here, errors and static files too; it
    is one look at the final list, where an after_request hook costs Werkzeug a check and a copy
    of each header it adds."""

    def __init__(self, wsgi_app, headers: dict[str, str]) -> None:
        self.wsgi_app = wsgi_app
        self.added: tuple[tuple[str, str, str], ...] = ()
        self.no_store_html = False
        for name, value in headers.items():
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        if "\r" in value or "\n" in value:
            raise ValueError("Header values must not contain newline characters.")
        self.added += ((name.lower(), name, value),)

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower(): value for name, value in headers}
            missing = [(name, value) for lowered, name, value in self.added if lowered not in present]
            if self.no_store_html and "cache-control" not in present \
                    and present.get("content-type", "").partition(";")[0].strip() == "text/html":
                missing.append(("Cache-Control", "no-store"))
            return start_response(status, headers + missing if missing else headers, exc_info)

        return self.wsgi_app(environ, start)


def headers_of(app: Flask) -> SecurityHeaders:
    """The app's SecurityHeaders middleware (init_app puts it in place)."""
    return app.extensions["security_headers"]


def init_app(app: Flask) -> None:
    app.wsgi_app = app.extensions["security_headers"] = SecurityHeaders(app.wsgi_app, HEADERS)  # type: ignore[method-assign]
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops:
        # Behind a reverse proxy every request comes from the proxy's address: take the client's
        # from X-Forwarded-For, or login throttling would put all users in one bucket.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
