"""One HTTP status per engine error, rendered as a page.

Page actions (claim, unclaim, complete) catch Conflict and Forbidden themselves and redirect back
to the task with the reason flashed, because the user's next step is on that page. Anything that
reaches these handlers is answered in place with its own status: NotFound 404, Forbidden 403,
Conflict 409, InvalidInput 422 (forms that can show field errors catch it first), and a CSRF
failure 400. Under /api/v1 the same errors are answered as problem+json instead (web/api).
"""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

import engine

from .api import problems


def _page(status: int, title: str, message: str, exc: Exception | None = None):
    if problems.is_api_request():
        return problems.for_exception(exc, status)
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(engine.NotFound)
    def not_found(exc):
        return _page(404, _("Not found"), _("This page does not exist or you may not see it."), exc)

    @app.errorhandler(engine.Forbidden)
    def forbidden(exc):
        return _page(403, _("Not allowed"), _("You may not do this."), exc)

    @app.errorhandler(engine.Conflict)
    def conflict(exc):
        return _page(409, _("Changed meanwhile"),
                     _("Someone else changed this at the same time. Reload the page and try again."), exc)

    @app.errorhandler(engine.InvalidInput)
    def invalid(exc):
        return _page(422, _("Invalid input"), _("The submitted data is not valid."), exc)

    @app.errorhandler(engine.TooLarge)
    def too_large(exc):
        return _page(413, _("File too large"), _("The file is larger than the allowed size."), exc)

    @app.errorhandler(engine.EvidenceCorrupted)
    def corrupted(exc):
        # Never served: the stored file differs from what was uploaded, or is gone.
        return _page(500, _("Evidence file damaged"),
                     _("The stored file no longer matches the SHA-256 recorded at upload, so it was "
                       "not served. This has been recorded; tell the administrator."), exc)

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        return _page(400, _("Form expired"),
                     _("The form was missing its security token. Reload the page and try again."), exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # Werkzeug's own texts are English only; the common ones get translated titles.
        titles = {400: _("Bad request"), 403: _("Not allowed"), 404: _("Not found"),
                  405: _("Method not allowed"), 413: _("File too large"),
                  429: _("Too many attempts")}
        messages = {413: _("The file is larger than the allowed size."),
                    429: _("Too many attempts from your address. Wait a minute and try again.")}
        if exc.code == 404:
            return not_found(exc)
        return _page(exc.code or 500, titles.get(exc.code, exc.name), messages.get(exc.code, ""), exc)
