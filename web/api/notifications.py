"""My notifications: list them (newest first) and mark them read. Only one's own are visible."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

import engine
from web.db import db
from web.notifications import notification_text

from . import schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1/notifications",
               description="My notifications")
guard(bp)


class NotificationArgs(schemas.PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread ones"})


class Notification(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={
        "description": "task_claimable | task_assigned | task_delegated | handoff_pending | "
                       "deadline_soon | deadline_passed"})
    text = fields.Function(notification_text, required=True,
                           metadata={"type": "string", "description": "what it says, in the request's language "
                                     "(Chinese unless Accept-Language asks for English)"})
    case_id = fields.Integer(required=True)
    task_id = fields.Integer(allow_none=True, required=True)
    params = fields.Dict(required=True, metadata={"description": "the values the text is made from"})
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True, required=True)


class NotificationPage(schemas.TaskPage):
    """The inbox's paging fields (total, page, per_page, pages) around notifications."""

    items = fields.List(fields.Nested(Notification), required=True)


class Marked(ma.Schema):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})


@bp.route("", methods=["GET"])
@bp.arguments(NotificationArgs(), location="query")
@bp.response(200, NotificationPage)
@documented(bp)
def index(args):
    """My notifications, newest first."""
    return engine.my_notifications(db.session, api_user(), args["page"], args["per_page"], args["unread"])


@bp.route(f"/<{schemas.ID}:notification_id>/read", methods=["POST"])
@bp.response(200, Notification)
@documented(bp, 404)
def mark_read(notification_id: int):
    """Mark one of my notifications read (marking it again changes nothing)."""
    return engine.mark_read(db.session, api_user(), notification_id)


@bp.route("/read", methods=["POST"])
@bp.response(200, Marked)
@documented(bp)
def mark_all_read():
    """Mark all my notifications read."""
    return {"marked": engine.mark_all_read(db.session, api_user())}
