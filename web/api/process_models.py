"""Process models: the deployed mechanisms, and deploying one by name (administrators).

Deploying takes the name of a .bpmn already in the server's workflows folder (WORKFLOWS_DIR),
with its DMN tables and forms beside it: a diagram is code, so it reaches the server through
an operator, and the API only activates it (engine/runtime/process_models.py).
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_smorest import Blueprint

import engine
from web.db import db

from . import schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_process_models", __name__, url_prefix="/api/v1/process-models",
               description="Process models (mechanisms)")
guard(bp)


@bp.route("", methods=["GET"])
@bp.response(200, schemas.ProcessModel(many=True))
@documented(bp)
def list_models():
    """The newest version of each deployed mechanism."""
    return engine.latest_models(db.session)


@bp.route("/deploy", methods=["POST"])
@bp.arguments(schemas.DeployRequest())
@bp.response(200, schemas.DeployResult, description="This content was already deployed")
@bp.alt_response(201, schema=schemas.DeployResult, description="A new version was deployed", success=True)
@documented(bp, 403, 404)
def deploy(args):
    """Deploy `<name>.bpmn` from the server's workflows folder (administrators only)."""
    folder = Path(current_app.config["WORKFLOWS_DIR"])
    result = engine.deploy_named(db.session, api_user(), folder, args["name"])
    return result, 201 if result.created else 200
