"""Supervision: open work past its deadline (supervisors everywhere, agency heads their own)."""
from __future__ import annotations

from flask_smorest import Blueprint

import engine
from web.db import db

from . import schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_supervision", __name__, url_prefix="/api/v1/supervision", description="Supervision")
guard(bp)


@bp.route("/overdue", methods=["GET"])
@bp.arguments(schemas.OverdueArgs(), location="query")
@bp.response(200, schemas.TaskPage)
@documented(bp, 403)
def overdue(args):
    """Open tasks past their deadline, most overdue first; filter by agency code, mechanism
    (process model key) or case."""
    return engine.overdue_tasks(db.session, api_user(), agency=args.get("agency"),
                                mechanism=args.get("mechanism"), case_id=args.get("case_id"),
                                page=args["page"], per_page=args["per_page"])
