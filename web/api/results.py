"""Results after filing and closing a case: the police's investigation, the procuratorate's
decision, the court's judgment (each by its own agency, in that order), and the owning agency's
close once nothing runs on the case. The same engine calls and policy as the case page."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

import engine
from models import MEASURE_KINDS, RESULT_OUTCOMES, RESULT_STAGES
from web.db import db

from .auth import api_user, guard
from .problems import documented
from .schemas import ID, Strict, Text

bp = Blueprint("api_results", __name__, url_prefix="/api/v1/cases", description="Results after filing")
guard(bp)


def rule(text: str, description: str = "") -> dict[str, str]:
    """A rule the schema cannot state (against another field, the clock or stored data): in the
    description and as `x-rule`; breaking it is answered 422 naming the field."""
    return {"description": f"{description}; {text}" if description else text, "x-rule": text}
OUTCOMES = sorted({o for outcomes in RESULT_OUTCOMES.values() for o in outcomes})


class MeasureIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(MEASURE_KINDS))
    ordered_on = fields.Date(required=True, metadata=rule("not in the future, not before the case was opened, "
                                                          "not after `decided_on`"))
    persons = fields.Integer(required=True, validate=validate.Range(1, 9999))


class ResultIn(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), metadata=rule(
        "one of the stage's outcomes: " + "; ".join(f"{s}: {', '.join(o)}" for s, o in RESULT_OUTCOMES.items())))
    decided_on = fields.Date(required=True, metadata=rule(
        "not in the future, not before the case was opened nor before the result of the stage before"))
    persons = fields.Integer(required=True, validate=validate.Range(0, 9999),
                             metadata=rule("at least 1 for a prosecution or a judgment",
                                           "suspects, persons prosecuted or not, persons judged"))
    document_number = Text(load_default=None, allow_none=True, validate=validate.Length(max=100))
    summary = Text(required=True, blank=False, validate=validate.Length(1, 5000),
                   metadata={"description": "reasons, or the judgment's sentences in summary"})
    compensation = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 1_000_000_000_000),
                                  metadata=rule("judgments only", "civil compensation, whole yuan"))
    measures = fields.List(fields.Nested(MeasureIn), load_default=list, validate=validate.Length(max=50),
                           metadata=rule("investigations only", "compulsory measures"))


class CloseIn(Strict):
    reason = Text(required=True, blank=False, validate=validate.Length(1, 5000))


class Measure(ma.Schema):
    kind = fields.String(required=True)
    ordered_on = fields.Date(required=True)
    persons = fields.Integer(required=True)


class Result(ma.Schema):
    id = fields.Integer(required=True)
    stage = fields.String(required=True, metadata={"description": ", ".join(RESULT_STAGES)})
    outcome = fields.String(required=True)
    decided_on = fields.Date(required=True)
    persons = fields.Integer(required=True)
    document_number = fields.String(allow_none=True)
    summary = fields.String(required=True)
    compensation = fields.Integer(allow_none=True)
    agency = fields.Function(lambda r: r.agency.code, required=True, metadata={"description": "agency code"})
    recorded_by = fields.Function(lambda r: r.recorded_by.username, required=True)
    recorded_at = fields.DateTime(required=True)
    measures = fields.List(fields.Nested(Measure), required=True)


class Closure(ma.Schema):
    closed_by = fields.Function(lambda c: c.closed_by.username, required=True)
    closed_at = fields.DateTime(required=True)
    reason = fields.String(required=True)


class Results(ma.Schema):
    results = fields.List(fields.Nested(Result), required=True, metadata={"description": "oldest first"})
    latest_stage = fields.String(allow_none=True, required=True)
    closure = fields.Nested(Closure, allow_none=True, required=True)


@bp.route(f"/<{ID}:case_id>/results", methods=["GET"])
@bp.response(200, Results)
@documented(bp, 403, 404)
def results(case_id: int):
    """The case's results after filing, oldest first, and its closing (readers of its content)."""
    return engine.case_results(db.session, api_user(), case_id)


@bp.route(f"/<{ID}:case_id>/results/<any({', '.join(RESULT_STAGES)}):stage>", methods=["POST"])
@bp.arguments(ResultIn())
@bp.response(201, Result)
@documented(bp, 403, 404, 409, 422)
def record(args, case_id: int, stage: str):
    """Record the caller's agency's result at a stage: investigation (police), prosecution
    (procuratorate), judgment (court). 409 on a closed case or without the stage before."""
    data = {**args, "measures": [dict(m) for m in args["measures"]]}
    return engine.record_result(db.session, api_user(), case_id, stage, data)


@bp.route(f"/<{ID}:case_id>/close", methods=["POST"])
@bp.arguments(CloseIn())
@bp.response(201, Closure)
@documented(bp, 403, 404, 409)
def close(args, case_id: int):
    """Close the case (the owning agency's handlers and heads). 409 while mechanisms still run on
    it, naming them, or when it is closed already."""
    return engine.close_case(db.session, api_user(), case_id, args["reason"])
