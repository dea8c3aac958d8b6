"""Response hardening on top of web/security.py's headers: HSTS where the site is served over
HTTPS (production), no caching of pages, and no server banner.

- `Strict-Transport-Security` when HSTS_SECONDS > 0 (ProductionConfig: a year), so a browser
  that once reached the site never talks to it in clear text again.
- `Cache-Control: no-store` on every HTML page a view did not give a policy of its own: pages
  show case content to logged-in users, and a shared office computer's cache or the back button
  must not show it to the next person.
- No `Server` header: neither the development server nor gunicorn names itself (a reverse proxy
  in front adds what it wants).

It also hands the audit key (AUDIT_KEY) to the engine through the session factory's info, as
web/db.py hands it the clock: the key never enters the database.
"""
from __future__ import annotations

import sys

from flask import Flask
from werkzeug.serving import WSGIRequestHandler

from engine import AUDIT_KEY

from .db import db
from .security import headers_of


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server without its `Server: Werkzeug/x Python/y` banner, which
    http.server's `send_response` adds before the app's headers."""

    def send_response(self, code, message=None):
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def hide_gunicorn_banner() -> None:
    """gunicorn writes `Server: gunicorn` itself (no setting turns it off); drop that line from
    the headers it builds. Done in the process that serves requests (the app is created in each
    worker), once, and only when gunicorn is what runs the app."""
    from gunicorn.http import wsgi

    built = wsgi.Response.default_headers
    if getattr(built, "liandong_quiet", False):
        return

    def default_headers(self):
        return [line for line in built(self) if not line.lower().startswith("server:")]

    default_headers.liandong_quiet = True
    wsgi.Response.default_headers = default_headers


def bind_audit_key(app: Flask) -> None:
    """Every session of the app's factory carries the configured audit key (or none)."""
    key = app.config.get("AUDIT_KEY")
    factory = db.state(app).factory
    info = dict(factory.kw.get("info") or {})
    info.pop(AUDIT_KEY, None)
    if key:
        info[AUDIT_KEY] = key.encode("utf-8") if isinstance(key, str) else key
    factory.configure(info=info)


def init_app(app: Flask) -> None:
    bind_audit_key(app)
    if "gunicorn" in sys.modules:
        hide_gunicorn_banner()
    # Added by web/security.py's middleware to the final headers, where no view set them.
    guard = headers_of(app)
    hsts = int(app.config.get("HSTS_SECONDS", 0))
    if hsts > 0:
        guard.add("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
    guard.no_store_html = True
