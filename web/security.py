"""CSRF protection on every form and the security headers on every response."""
from __future__ import annotations

from flask import Flask, Response
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


def init_app(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops:
        # Behind a reverse proxy every request comes from the proxy's address: take the client's
        # from X-Forwarded-For, or login throttling would put all users in one bucket.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # Those a view set itself stay; one look at the response's few headers, not one per name.
        present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118 - Headers iterate as pairs
        for name, value in HEADERS.items():
            if name.lower() not in present:
                response.headers.add(name, value)
        return response
