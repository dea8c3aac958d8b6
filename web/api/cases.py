"""Cases: open one, list the visible ones, show one with its instances, participants and tasks,
and its audit timeline."""
from __future__ import annotations

from types import SimpleNamespace

from flask_smorest import Blueprint
from marshmallow import fields, validate

import engine
from web.db import db

from . import dumps, schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1/cases", description="Cases")
guard(bp)
TRANSFER = "case_transfer"
KEY = "[a-z][a-z0-9_]{0,99}"


class CaseCreate(schemas.CaseCreate):
    mechanisms = fields.List(schemas.Pattern(KEY), load_default=lambda: [TRANSFER], validate=validate.Length(0, 20),
                             metadata=schemas.rule("each one a mechanism you may start on a new case",
                                                   "process model keys to start on the new case; default "
                                                   f"[\"{TRANSFER}\"] (立案协助); [] opens it with none"))


class MechanismStart(schemas.Strict):
    key = schemas.Pattern(KEY, required=True, metadata=schemas.rule("a mechanism you may start on this case",
                                                                    "process model key"))
    confirm_reason = schemas.Text(load_default="", validate=validate.Length(0, 1000), metadata=schemas.rule(
        "required while an instance of the same mechanism still runs on the case",
        "recorded as mechanism_duplicate_confirmed"))


class CaseView:
    """A case with what its page shows beside it, for the CaseDetail schema: read from the
    database as lines of the columns the answer shows (`read`: the case's `line`, then
    `instance_lines` and `task_lines`), or as just opened (entities). The answer's builder
    (web/api/dumps.py) reads `line` or `case`, and the lines if any; `instances` and `tasks` are
    the entities the documented schema reads, read for it only when it asks, as it reads a line's
    case through `_CaseOfLine` (tests/web/test_api_dumps.py holds the two answers side by side)."""

    def __init__(self, case, instances=None, tasks=None) -> None:
        self.case = case
        self._instances, self._tasks = instances, tasks
        self.line = self.instance_lines = self.task_lines = None

    @classmethod
    def read(cls, case_id: int) -> CaseView:
        """The case if the user may see it (NotFound otherwise), with its instances and tasks."""
        session = db.session
        line = engine.visible_case(session, api_user(), case_id, lines=True)
        view = cls(_CaseOfLine(line))
        view.line = line
        view.instance_lines = engine.case_instances(session, line.case, models=False, lines=True)
        view.task_lines = engine.case_tasks(session, line.case, lines=True)
        return view

    @property
    def instances(self):
        if self._instances is None:
            self._instances = engine.case_instances(db.session, self.case, models=False)
        return self._instances

    @property
    def tasks(self):
        if self._tasks is None:
            self._tasks = engine.case_tasks(db.session, self.case)
        return self._tasks

    def __getattr__(self, name: str):
        return getattr(self.case, name)


class _CaseOfLine:
    """A case's line (engine/oversight/case_reads.py `CaseLine`) as the documented schema reads a
    case: `owner_agency.code`, `created_by.username`, each participant's `agency.code` and
    `agency.name`."""

    def __init__(self, line) -> None:
        self.line = line

    def __getattr__(self, name: str):
        return getattr(self.line.case, name)

    @property
    def owner_agency(self):
        return SimpleNamespace(code=self.line.case.owner_agency)

    @property
    def created_by(self):
        return SimpleNamespace(username=self.line.case.created_by)

    @property
    def participants(self):
        return [SimpleNamespace(agency=SimpleNamespace(code=p.agency, name=p.agency_name), joined_at=p.joined_at)
                for p in self.line.participants]


@bp.route("", methods=["GET"])
@bp.arguments(schemas.PageArgs(), location="query")
@bp.response(200, schemas.CasePage)
@documented(bp)
def list_cases(args):
    """Cases the user's agency takes part in (every case for supervisors), newest first."""
    return engine.case_page(db.session, api_user(), args["page"], args["per_page"])


@bp.route("", methods=["POST"])
@bp.arguments(CaseCreate())
@bp.response(201, dumps.CASE_DETAIL)
@documented(bp, 403, 422)
def create_case(args):
    """Open a case and start the mechanisms chosen, 立案协助 unless `mechanisms` says otherwise
    (market supervision handlers only)."""
    return CaseView(*engine.open_case(db.session, api_user(), args["title"], args["confidentiality"],
                                      mechanisms=args["mechanisms"]))


@bp.route(f"/<{schemas.ID}:case_id>/mechanisms", methods=["POST"])
@bp.arguments(MechanismStart())
@bp.response(201, schemas.Instance)
@documented(bp, 403, 404, 422)
def start_mechanism(args, case_id: int):
    """Start a mechanism on the case (the diagram's `startable_by` lanes decide who may); a second
    running instance of the same mechanism needs `confirm_reason`."""
    return engine.start_mechanism(db.session, api_user(), case_id, args["key"], confirm_reason=args["confirm_reason"])


@bp.route(f"/<{schemas.ID}:case_id>", methods=["GET"])
@bp.response(200, dumps.CASE_DETAIL)
@documented(bp, 404)
def show_case(case_id: int):
    """A case with its process instances, participating agencies and tasks (no form data)."""
    return CaseView.read(case_id)


@bp.route(f"/<{schemas.ID}:case_id>/timeline", methods=["GET"])
@bp.response(200, schemas.TimelineEvent(many=True))
@documented(bp, 404)
def timeline(case_id: int):
    """The case's audit events in order (each with its chain hash)."""
    session = db.session
    return engine.case_timeline(session, engine.visible_case(session, api_user(), case_id))
