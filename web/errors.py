"""One HTTP status per engine error, for pages, the API and downloads alike.

`STATUSES` is the only place that turns an engine error into a status (the engine's errors carry
none). Page actions (claim, unclaim, complete) catch Conflict and Forbidden themselves and
redirect back to the task with the reason flashed, because the user's next step is on that page.
Anything that reaches the handler here is answered in place with its status: NotFound 404,
Forbidden 403, Conflict 409, InvalidInput 422 (forms that can show field errors catch it first),
and a CSRF failure 400. Under /api/v1 the same errors are answered as problem+json instead
(web/api/problems.py).
"""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

import engine

from .api import problems

# An error takes the status of the most specific class listed (StaleState is a Conflict: 409).
STATUSES: dict[type[engine.EngineError], int] = {
    engine.NotFound: 404,
    engine.Forbidden: 403,
    engine.Conflict: 409,
    engine.InvalidInput: 422,
    engine.TooLarge: 413,
    # A damaged file is a state of the item the user can see and act on, not a server fault.
    engine.EvidenceCorrupted: 409,
    engine.WorkflowError: 500,
    engine.DeployError: 400,
    engine.EngineError: 400,
}

# The title and message of the page for the errors a page request can meet. The others (a
# deploy, a broken diagram, an engine fault) have no page of their own: the server error.
_PAGE_TEXTS = {
    engine.NotFound: (_l("Not found"), _l("This page does not exist or you may not see it.")),
    engine.Forbidden: (_l("Not allowed"), _l("You may not do this.")),
    engine.Conflict: (_l("Changed meanwhile"),
                      _l("Someone else changed this at the same time. Reload the page and try again.")),
    engine.InvalidInput: (_l("Invalid input"), _l("The submitted data is not valid.")),
    engine.TooLarge: (_l("File too large"), _l("The file is larger than the allowed size.")),
    # Never served: the stored file differs from what was uploaded, or is gone.
    engine.EvidenceCorrupted: (_l("Evidence file damaged"),
                               _l("The stored file no longer matches the SHA-256 recorded at upload, so it "
                                  "was not served. This has been recorded; tell the administrator.")),
}


def _most_specific(table: dict, exc: Exception):
    return next((table[cls] for cls in type(exc).__mro__ if cls in table), None)


def status_of(exc: engine.EngineError) -> int:
    """The HTTP status that answers an engine error."""
    return _most_specific(STATUSES, exc)


def _page(status: int, title: str, message: str, exc: Exception | None = None):
    if problems.is_api_request():
        return problems.for_exception(exc, status)
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(engine.EngineError)
    def engine_error(exc: engine.EngineError):
        texts = _most_specific(_PAGE_TEXTS, exc)
        if texts is None and not problems.is_api_request():
            raise exc  # Flask's server error, logged (no page explains an engine fault)
        title, message = texts or ("", "")
        return _page(status_of(exc), str(title), str(message), exc)

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
        messages = {404: _("This page does not exist or you may not see it."),
                    413: _("The file is larger than the allowed size."),
                    429: _("Too many attempts from your address. Wait a minute and try again.")}
        return _page(exc.code or 500, titles.get(exc.code, exc.name), messages.get(exc.code, ""), exc)
