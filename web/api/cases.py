"""Cases: open one, list the visible ones, show one with its instances, participants and tasks,
and its audit timeline."""
from __future__ import annotations

from flask_smorest import Blueprint

import engine
from web.db import db

from . import schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1/cases", description="Cases")
guard(bp)


class CaseView:
    """A case with what its page shows beside it, for the CaseDetail schema: read from the
    database, or as just opened."""

    def __init__(self, case, instances=None, tasks=None) -> None:
        session = db.session
        self._case = case
        self.instances = engine.case_instances(session, case, models=False) if instances is None else instances
        self.tasks = engine.case_tasks(session, case) if tasks is None else tasks

    def __getattr__(self, name: str):
        return getattr(self._case, name)


@bp.route("", methods=["GET"])
@bp.arguments(schemas.PageArgs(), location="query")
@bp.response(200, schemas.CasePage)
@documented(bp)
def list_cases(args):
    """Cases the user's agency takes part in (every case for supervisors), newest first."""
    return engine.case_page(db.session, api_user(), args["page"], args["per_page"])


@bp.route("", methods=["POST"])
@bp.arguments(schemas.CaseCreate())
@bp.response(201, schemas.CaseDetail)
@documented(bp, 403)
def create_case(args):
    """Open a case and start its transfer mechanism (market supervision handlers only)."""
    return CaseView(*engine.open_case(db.session, api_user(), args["title"], args["confidentiality"]))


@bp.route(f"/<{schemas.ID}:case_id>", methods=["GET"])
@bp.response(200, schemas.CaseDetail)
@documented(bp, 404)
def show_case(case_id: int):
    """A case with its process instances, participating agencies and tasks (no form data)."""
    return CaseView(engine.visible_case(db.session, api_user(), case_id))


@bp.route(f"/<{schemas.ID}:case_id>/timeline", methods=["GET"])
@bp.response(200, schemas.TimelineEvent(many=True))
@documented(bp, 404)
def timeline(case_id: int):
    """The case's audit events in order (each with its chain hash)."""
    session = db.session
    return engine.case_timeline(session, engine.visible_case(session, api_user(), case_id))
