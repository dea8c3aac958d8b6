"""Rights holders of a case, the notices they are owed and the delivery of each.

The same engine functions and policy as the case page (web/parties.py): holders and notices are
case content; handlers of a party agency record holders; the issuing agency generates a notice
its diagram does not issue itself and records each delivery. Every change is audited.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

import engine
from engine import DOCUMENT_KINDS as KINDS
from models import DELIVERY_METHODS, HOLDER_KINDS
from web.db import db

from .auth import api_user, guard
from .problems import documented
from .schemas import ID, MAX_ID, Dotted, Strict, Text, rule

bp = Blueprint("api_parties", __name__, url_prefix="/api/v1", description="Rights holders and their notices")
guard(bp)
CASE = f"/cases/<{ID}:case_id>"


# --- requests ----------------------------------------------------------------------------

class HolderFields(Strict):
    name = Text(required=True, blank=False, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(HOLDER_KINDS),
                         metadata={"description": "person or company"})
    contact = Text(required=True, blank=False, validate=validate.Length(1, 300),
                   metadata={"description": "address, telephone, mail"})
    representative = Text(load_default="", validate=validate.Length(0, 120),
                          metadata={"description": "legal representative (法定代表人)"})
    agent = Text(load_default="", validate=validate.Length(0, 200),
                 metadata={"description": "authorised agent (委托代理人)"})


class NoticeGeneration(Strict):
    task_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID), metadata=rule(
        "a completed task of the case that owes the holder a notice its diagram does not issue itself",
        "the task the notice is for (`task_id` of an owed notice)"))


class DeliveryFields(Strict):
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS))
    delivered_at = fields.AwareDateTime(required=True, metadata=rule(
        "not in the future and not before the notice was generated", "ISO 8601 with offset"))
    delivered_by = Text(required=True, blank=False, validate=validate.Length(1, 120))
    recipient = Text(required=True, blank=False, validate=validate.Length(1, 200),
                     metadata={"description": "who received or signed for it"})
    note = Text(load_default="", validate=validate.Length(0, 2000))
    holder_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_ID),
                               metadata=rule("a rights holder of the notice's case", "whom it was delivered to"))


# --- responses ---------------------------------------------------------------------------

class Holder(ma.Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    contact = fields.String(required=True)
    representative = fields.String(required=True)
    agent = fields.String(required=True)
    created_by = Dotted("created_by.username")
    created_at = fields.DateTime(required=True)
    updated_by = Dotted("updated_by.username", allow_none=True)
    updated_at = fields.DateTime(required=True, allow_none=True)


class Delivery(ma.Schema):
    id = fields.Integer(required=True)
    document_id = fields.Integer(required=True)
    holder_id = fields.Integer(required=True, allow_none=True)
    method = fields.String(required=True)
    delivered_at = fields.DateTime(required=True)
    delivered_by = fields.String(required=True)
    recipient = fields.String(required=True)
    note = fields.String(required=True)
    recorded_by = Dotted("recorded_by.username")
    recorded_at = fields.DateTime(required=True)


class NoticeDocument(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    generated_at = fields.DateTime(required=True)
    issuing_agency = Dotted("issuing_agency.code")
    print_url = fields.Function(lambda d: f"/api/v1/documents/{d.id}/print", required=True,
                                metadata={"type": "string"})


class Notice(ma.Schema):
    kind = fields.String(required=True)
    title = fields.Function(lambda n: KINDS[n.kind].title, required=True, metadata={"type": "string"})
    task_id = fields.Function(lambda n: n.task.id, required=True, metadata={"type": "integer"})
    state = fields.String(required=True, metadata={"description": "owed | generated | delivered"})
    due_at = fields.DateTime(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    document = fields.Nested(NoticeDocument, required=True, allow_none=True)
    deliveries = fields.List(fields.Nested(Delivery), required=True)
    can_generate = fields.Boolean(required=True)
    can_deliver = fields.Boolean(required=True)


# --- routes ------------------------------------------------------------------------------

@bp.route(f"{CASE}/rights-holders", methods=["GET"])
@bp.response(200, Holder(many=True))
@documented(bp, 404)
def list_holders(case_id: int):
    """The case's rights holders, oldest first (empty for those who may not read its content)."""
    return engine.rights_holders(db.session, api_user(), case_id)


@bp.route(f"{CASE}/rights-holders", methods=["POST"])
@bp.arguments(HolderFields())
@bp.response(201, Holder)
@documented(bp, 403, 404, 422)
def add_holder(args, case_id: int):
    """Record a rights holder (handlers of a party agency); audited as `rights_holder_added`."""
    return engine.add_rights_holder(db.session, api_user(), case_id, args)


@bp.route(f"/rights-holders/<{ID}:holder_id>", methods=["GET"])
@bp.response(200, Holder)
@documented(bp, 404)
def show_holder(holder_id: int):
    """One rights holder."""
    return engine.visible_rights_holder(db.session, api_user(), holder_id)


@bp.route(f"/rights-holders/<{ID}:holder_id>", methods=["PUT"])
@bp.arguments(HolderFields())
@bp.response(200, Holder)
@documented(bp, 403, 404, 422)
def update_holder(args, holder_id: int):
    """Correct a holder's particulars (every field again); audited as `rights_holder_updated`."""
    return engine.update_rights_holder(db.session, api_user(), holder_id, args)


@bp.route(f"{CASE}/holder-notices", methods=["GET"])
@bp.response(200, Notice(many=True))
@documented(bp, 404)
def list_notices(case_id: int):
    """Every notice the case's holders are owed: owed, generated or delivered, due and overdue."""
    return engine.holder_notices(db.session, api_user(), case_id)


@bp.route(f"{CASE}/holder-notices", methods=["POST"])
@bp.arguments(NoticeGeneration())
@bp.response(201, NoticeDocument)
@documented(bp, 403, 404, 409, 422)
def generate_notice(args, case_id: int):
    """Generate an owed notice that its diagram does not issue itself (the issuing agency's
    handlers and heads); 409 when it exists already or the task owes none."""
    session, user = db.session, api_user()
    engine.visible_case(session, user, case_id)
    task = engine.visible_task(session, user, args["task_id"])
    if task.case_id != case_id:
        raise engine.NotFound(f"task {args['task_id']} does not exist")
    return engine.generate_holder_notice(session, user, task.id)


@bp.route(f"/holder-notices/<{ID}:document_id>/deliveries", methods=["GET"])
@bp.response(200, Delivery(many=True))
@documented(bp, 404)
def list_deliveries(document_id: int):
    """The deliveries of one notice, in order."""
    return engine.notice_deliveries(db.session, api_user(), document_id)


@bp.route(f"/holder-notices/<{ID}:document_id>/deliveries", methods=["POST"])
@bp.arguments(DeliveryFields())
@bp.response(201, Delivery)
@documented(bp, 403, 404, 422)
def add_delivery(args, document_id: int):
    """Record how and when a notice was delivered (the issuing agency); audited as `notice_delivered`."""
    return engine.record_delivery(db.session, api_user(), document_id, args)
