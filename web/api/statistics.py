"""The task force's statistics: the figures of a period per agency and per mechanism, the time per
stage and the share of legal periods met per rule (the office's supervisors every agency, an
agency head their own), as the statistics page and its quarterly summary show them."""
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


class StageTime(ma.Schema):
    mechanism = fields.String(required=True, metadata={"description": "process model key"})
    bpmn_id = fields.String(required=True, metadata={"description": "the step's id in the model"})
    title = fields.String(required=True, metadata={"description": "the step's title (Chinese, as the model names it)"})
    count = fields.Integer(required=True, metadata={"description": "tasks of the step completed in the period"})
    median_hours = fields.Float(required=True, metadata={
        "description": "hours from opening to completion, median by the nearest-rank method (an actual task's time)"})
    p90_hours = fields.Float(required=True, metadata={"description": "90th percentile, nearest rank"})


class PeriodsMet(ma.Schema):
    rule_id = fields.String(required=True, metadata={"description": "the legal rule (the 期限规则 page)"})
    count = fields.Integer(required=True, metadata={
        "description": "tasks under the rule with a due time completed in the period (rules without any left out)"})
    met = fields.Integer(required=True, metadata={"description": "of these, completed by their due time"})
    share = fields.Float(required=True, metadata={"description": "met / count, 0 to 1"})


class Statistics(ma.Schema):
    period = fields.Function(lambda s: {"from": s.period.first.isoformat(), "to": s.period.last.isoformat()},
                             required=True, metadata={"description": "{from, to}"})
    agencies = fields.List(fields.String(), required=True, metadata={"description": "agency codes in scope"})
    clues_counted = fields.Boolean(required=True)
    figures = fields.List(fields.Nested(Figure), required=True)
    mechanisms = fields.List(fields.Nested(Mechanism), required=True)
    stage_times = fields.List(fields.Nested(StageTime), required=True, metadata={
        "description": "per mechanism and step, the tasks completed in the period; of the agencies in scope"})
    periods_met = fields.List(fields.Nested(PeriodsMet), required=True, metadata={
        "description": "per legal rule, the tasks completed in the period; of the agencies in scope"})


@bp.route("", methods=["GET"])
@bp.arguments(PeriodArgs(), location="query")
@bp.response(200, Statistics)
@documented(bp, 403, 422)
def statistics(args):
    """The figures of the period, each attributed to the agency that acted; the time per stage and
    the legal periods met, from the tasks completed in the period by the agencies in scope."""
    period = engine.check_period(args["date_from"], args["date_to"])
    return engine.statistics(db.session, api_user(), period)
