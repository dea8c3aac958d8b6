"""The shared case register: transfers, filing decisions, supervisions and penalty cases across
agencies, with the page's filters (web/register.py) and the same visibility (engine policy)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields, validate

import engine
from web.db import db

from .auth import api_user, guard
from .problems import documented
from .schemas import PageArgs, TaskPage, Text, rule

bp = Blueprint("api_register", __name__, url_prefix="/api/v1/register", description="Shared case register")
guard(bp)


class RegisterArgs(PageArgs):
    mechanism = fields.String(validate=validate.OneOf(list(engine.REGISTER_MECHANISMS)))
    state = fields.String(validate=validate.OneOf(list(engine.REGISTER_STATES)),
                          metadata={"description": "the row's derived state"})
    agency = Text(validate=validate.Length(1, 32),
                  metadata={"description": "agency code: rows of cases this agency takes part in"})
    date_from = fields.Date(data_key="from", metadata={"description": "key date on or after this day (Beijing)"})
    date_to = fields.Date(data_key="to",
                          metadata=rule("on or after `from`", "key date on or before this day (Beijing)"))

    @ma.validates_schema
    def _period(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("the period must end on or after its first day", "to")


class RegisterCase(ma.Schema):
    id = fields.Integer(required=True, attribute="case_id")
    number = fields.String(required=True, attribute="case_number")
    title = fields.String(required=True, allow_none=True, attribute="case_title",
                          metadata={"description": "null for a secret case read by a supervisor or administrator"})


class RegisterRow(ma.Schema):
    case = fields.Function(lambda row: RegisterCase().dump(row), required=True,
                           metadata={"description": "{id, number, title}"})
    mechanism = fields.String(required=True, metadata={"description": ", ".join(engine.REGISTER_MECHANISMS)})
    instance_id = fields.Integer(required=True)
    task_id = fields.Integer(allow_none=True, metadata={"description": "the deciding task, for filing decisions"})
    state = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "the instance's status"})
    outcome = fields.String(allow_none=True, metadata={"description": "the state once the instance has ended"})
    key_date = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True)
    parties = fields.List(fields.String(), required=True, metadata={"description": "agency codes, sender first"})
    trigger = fields.String(allow_none=True, metadata={"description": "supervisions: what prompted them"})
    dates = fields.Dict(keys=fields.String(), values=fields.DateTime(), required=True,
                        metadata={"description": "milestone state -> when it was reached"})
    document_number = fields.String(allow_none=True)
    documents = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                            metadata={"description": "document kind -> number"})
    result_stage = fields.String(allow_none=True, metadata={
        "description": "the case's latest result after filing: investigation, prosecution or judgment"})
    result_outcome = fields.String(allow_none=True, metadata={"description": "that result's outcome"})


class RegisterPage(TaskPage):
    items = fields.List(fields.Nested(RegisterRow), required=True)


@bp.route("", methods=["GET"])
@bp.arguments(RegisterArgs(), location="query")
@bp.response(200, RegisterPage)
@documented(bp, 422)
def register(args):
    """Register rows, newest key date first: agencies see the cases they take part in,
    supervisors and administrators every case (a secret one without its title)."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    first, last = args.get("date_from"), args.get("date_to")
    filters = engine.RegisterFilter(
        mechanism=args.get("mechanism"), state=args.get("state"), agency=args.get("agency"),
        since=datetime.combine(first, time(), zone) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), zone) if last else None,
    )
    return engine.register_page(db.session, api_user(), filters, page=args["page"], per_page=args["per_page"])
