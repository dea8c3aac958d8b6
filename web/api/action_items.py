"""A consultation's action items (案情会商 落实事项): the list a case's page shows, and the convening
agency's withdrawal of an open task item with its reason. The same engine calls and policy as the
case page (web/cases.py): readers of the case's content see its items, the engine decides who may
withdraw one (403), whether it still can be (409) and whether the reason is given (422)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

import engine
from web.db import db

from .auth import api_user, guard
from .problems import documented
from .schemas import ID, Dotted, Strict, Text

bp = Blueprint("api_action_items", __name__, url_prefix="/api/v1/cases", description="Consultation action items")
guard(bp)
# As the engine stores it (engine/mechanisms/consultation_actions.py MAX_TEXT).
MAX_REASON = 1000
STATES = ("open", "done", "cancelled", "withdrawn")


class WithdrawIn(Strict):
    reason = Text(required=True, blank=False, validate=validate.Length(1, MAX_REASON), metadata={
        "description": "why the convening agency withdraws the item, stored with each run of whitespace as one "
                       "space; the responsible agency's liaisons are told"})


class ActionItem(ma.Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True, metadata={"description": "the item's line in the minutes, from 1"})
    kind = fields.String(required=True, metadata={"description": "mechanism (starts one on the case) or task "
                                                                 "(given to an agency with a deadline)"})
    mechanism = fields.String(required=True, allow_none=True, metadata={"description": "kind mechanism: its key"})
    agency = Dotted("agency.code", metadata={"description": "the agency that starts the mechanism or carries out "
                                                            "the task (agency code)"})
    text = fields.String(required=True, metadata={"description": "what is to be done, as the minutes say"})
    deadline = fields.String(required=True, allow_none=True, attribute="deadline_rule",
                             metadata={"description": "kind task: the period given, e.g. 5wd (working days)"})
    due_at = fields.DateTime(required=True, allow_none=True)
    state = fields.String(required=True, metadata={"description": ", ".join(STATES)})
    consultation_instance_id = fields.Integer(required=True, metadata={"description": "the consultation's instance"})
    instance_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the mechanism it started, or the consultation_action instance of its task"})
    created_by = Dotted("created_by.username", metadata={"description": "who recorded the minutes"})
    created_at = fields.DateTime(required=True)
    closed_by = Dotted("closed_by.username", allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True, metadata={
        "description": "what was done, or why it was cancelled or withdrawn"})
    withdrawable = fields.Boolean(required=True, metadata={
        "description": "whether the caller may withdraw it now (POST .../withdraw)"})


class _Shown:
    """An item as the caller reads it: its row, and whether the caller may withdraw it."""

    def __init__(self, item, withdrawable: bool) -> None:
        self.item, self.withdrawable = item, withdrawable

    def __getattr__(self, name: str) -> Any:
        return getattr(self.item, name)


@bp.route(f"/<{ID}:case_id>/action-items", methods=["GET"])
@bp.response(200, ActionItem(many=True))
@documented(bp, 404)
def list_items(case_id: int):
    """The case's action items in the order recorded, for readers of its content (others get an
    empty list, as the case page shows them none)."""
    session, user = db.session, api_user()
    case = engine.visible_case(session, user, case_id)
    return [_Shown(item, engine.action_item_withdrawable(session, user, item))
            for item in engine.consultation_action_items(session, user, case)]


@bp.route(f"/<{ID}:case_id>/action-items/<{ID}:item_id>/withdraw", methods=["POST"])
@bp.arguments(WithdrawIn())
@bp.response(200, ActionItem)
@documented(bp, 403, 404, 409, 422)
def withdraw(args, case_id: int, item_id: int):
    """Withdraw an open task item (the convening agency: the user who recorded the minutes, or its
    liaisons): its task is cancelled, the item is withdrawn with the reason, the responsible
    agency's liaisons are told. 409 when the item is closed, started a mechanism, or its task runs
    on an older version of the diagram (the responsible agency may still cancel it)."""
    item = engine.withdraw_action_item(db.session, api_user(), case_id, item_id, args["reason"])
    return _Shown(item, False)
