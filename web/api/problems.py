"""Every error under /api/v1 as one JSON shape (RFC 9457 `application/problem+json`).

{"type", "title", "status", "detail"} always, and `errors` ({field: [reasons]}) for invalid
input, whether marshmallow refused the request or the engine refused the data. web/errors.py
hands API requests here, so no API client ever gets an HTML error page.
"""
from __future__ import annotations

from http import HTTPStatus

import marshmallow as ma
from flask import Response, json, request
from werkzeug.exceptions import HTTPException

import engine

PREFIX = "/api/"
CONTENT_TYPE = "application/problem+json"
# A stable, machine-readable kind for each status a client should tell apart.
SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
    422: "invalid-input", 429: "too-many-requests", 500: "internal-error",
}


class ProblemSchema(ma.Schema):
    """Documents the error payload; responses are built by `problem`, not dumped through it."""

    type = ma.fields.String(required=True, metadata={"description": "urn:liandong:problem:<kind>"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For invalid input: each field path and its reasons"},
    )


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(status: int, detail: str = "", errors: dict | None = None, headers=None) -> Response:
    body = {
        "type": f"urn:liandong:problem:{SLUGS.get(status, 'error')}",
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "status": status,
        "detail": detail or "",
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=CONTENT_TYPE)
    for name, value in headers or ():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _flatten(messages, path: str = "") -> dict[str, list[str]]:
    """marshmallow/webargs messages ({"json": {"field": ["..."]}} or nested) as dotted paths."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            flat.update(_flatten(value, ".".join(p for p in (path, name) if p)))
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            if isinstance(value, (dict, list, tuple)):
                flat.update(_flatten(value, path))
            else:
                flat.setdefault(path, []).append(str(value))
    else:
        flat.setdefault(path, []).append(str(messages))
    return flat


def for_exception(exc: Exception, status: int) -> Response:
    """The problem response for an engine error or an HTTP error raised while serving the API;
    `status` is what web/errors.py maps the error to."""
    if isinstance(exc, engine.InvalidInput):
        return problem(status, exc.message, {k: [str(m) for m in v] for k, v in exc.errors.items()})
    if isinstance(exc, engine.EngineError):
        return problem(status, exc.message)
    if isinstance(exc, HTTPException):
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        data = getattr(exc, "data", None) or {}
        if "messages" in data:  # webargs: the request did not match the operation's schema
            # {location: {field: reasons}}: clients know where they sent each field.
            return problem(status, "the request is not valid",
                           _flatten(list(data["messages"].values())), headers)
        # Werkzeug's description of a 500 is generic; no exception text reaches a client.
        return problem(status, exc.description or "", None, headers)
    return problem(500, "internal error")


def documented(bp, *statuses: int):
    """Declare an operation's error responses (401 always: every operation needs a token). Only
    the documentation is kept: flask-smorest's alt_response would also wrap the view in a layer
    per status that does nothing but call it (~15 calls a layer on every request)."""

    def decorate(view):
        for status in sorted({401, *statuses}, reverse=True):
            view._apidoc = bp.alt_response(status, response=HTTPStatus(status).name)(view)._apidoc
        return view

    return decorate
