"""The JSON API under /api/v1 (flask-smorest + marshmallow) for other agency systems.

Every route calls the same engine service functions as the pages, with the same policy; this
package only translates HTTP to those calls and back. Authentication is by personal bearer
token (web/api/auth.py); errors are problem+json (web/api/problems.py); the OpenAPI document is
served at /api/v1/openapi.json and read as a plain page at /api/v1/docs (no CDN assets).
"""
from __future__ import annotations

from http import HTTPStatus

from flask import Flask
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from .params import Parser

# Every resource's `bp.arguments` binds the parser it finds here when its module is imported
# (below): the shorter query and body path of params.py, with webargs' messages.
Blueprint.ARGUMENTS_PARSER = Parser()

from web.security import csrf  # noqa: E402

from . import (  # noqa: E402
    cases,
    clues,
    docs,
    documents,
    evidence,
    notifications,
    process_models,
    register,
    supervision,
    tasks,
)
from .action_items import bp as action_items_bp  # noqa: E402
from .auth import SessionInterface  # noqa: E402
from .parties import bp as parties_bp  # noqa: E402
from .problems import CONTENT_TYPE, ProblemSchema  # noqa: E402
from .results import bp as results_bp  # noqa: E402
from .statistics import bp as statistics_bp  # noqa: E402

PREFIX = "/api/v1"
RESOURCES = (cases.bp, tasks.bp, evidence.bp, documents.bp, process_models.bp, supervision.bp, notifications.bp,
             register.bp, results_bp, statistics_bp, clues.bp, parties_bp, action_items_bp)


class LiandongApi(Api):
    """flask-smorest with problem+json errors."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        # flask-smorest would answer every HTTP error of the whole app (pages too) with its own
        # JSON; web/errors.py already routes API requests to problems.py instead.
        pass

    def _register_responses(self) -> None:
        """The reusable error responses, declared as problem+json (what clients receive)."""
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.config.setdefault("API_TITLE", "Liandong 联动 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Cases, task inbox, audit timelines, process models and overdue "
                                "work of Liandong. Authenticate with a personal token from your "
                                "profile page, sent as the header Authorization: Bearer <token>."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    })
    api = LiandongApi(app)
    for blueprint in RESOURCES:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.extensions["liandong_api"] = api
