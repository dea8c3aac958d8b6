"""The task force's statistics: the figures of a period per agency and per mechanism (the
office's supervisors every agency, an agency head their own), as the statistics page shows them."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

import engine
from web.db import db

from .auth import api_user, guard
from .problems import documented
from .schemas import Strict

bp = Blueprint("api_statistics", __name__, url_prefix="/api/v1/statistics", description="Statistics")
guard(bp)


def rule(text: str, description: str = "") -> dict[str, str]:
    """A rule the schema cannot state (against another field, the clock or stored data): in the
    description and as `x-rule`; breaking it is answered 422 naming the field."""
    return {"description": f"{description}; {text}" if description else text, "x-rule": text}


class PeriodArgs(Strict):
    date_from = fields.Date(required=True, data_key="from", metadata={"description": "first day (Beijing)"})
    date_to = fields.Date(required=True, data_key="to", metadata=rule(
        "on or after `from`, at most five years after it", "last day (Beijing), included"))

    @ma.validates_schema
    def _period(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to"):
            try:
                engine.check_period(data["date_from"], data["date_to"])
            except engine.InvalidInput as exc:
                raise ma.ValidationError(exc.errors["to"], "to") from None


class Figure(ma.Schema):
    key = fields.String(required=True)
    group = fields.String(required=True, metadata={"description": "the mechanism or stage it belongs to"})
    unit = fields.String(required=True, metadata={"description": "count, persons or yuan"})
    total = fields.Float(required=True)
    by_agency = fields.Dict(keys=fields.String(), values=fields.Float(), required=True,
                            metadata={"description": "agency code -> value; agencies without any left out"})


class Mechanism(ma.Schema):
    key = fields.String(required=True)
    started = fields.Integer(required=True)
    ended = fields.Integer(required=True)
    running = fields.Integer(required=True, metadata={"description": "at the end of the period"})


class Statistics(ma.Schema):
    period = fields.Function(lambda s: {"from": s.period.first.isoformat(), "to": s.period.last.isoformat()},
                             required=True, metadata={"description": "{from, to}"})
    agencies = fields.List(fields.String(), required=True, metadata={"description": "agency codes in scope"})
    clues_counted = fields.Boolean(required=True)
    figures = fields.List(fields.Nested(Figure), required=True)
    mechanisms = fields.List(fields.Nested(Mechanism), required=True)


@bp.route("", methods=["GET"])
@bp.arguments(PeriodArgs(), location="query")
@bp.response(200, Statistics)
@documented(bp, 403, 422)
def statistics(args):
    """The figures of the period, each attributed to the agency that acted."""
    period = engine.check_period(args["date_from"], args["date_to"])
    return engine.statistics(db.session, api_user(), period)
