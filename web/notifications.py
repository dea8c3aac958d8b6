"""The user's notifications: the list (newest first, paged), marking read, the header badge.

Each user sees only their own; another user's notification id is a 404 like any unknown one.
Texts are rendered here, in the reader's language, from the kind and the values stored with
the notification (engine/oversight/notifications.py decides who is told what).
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

import engine
from models import HumanTaskState, Notification

from . import workflow_text
from .auth import actor
from .db import db
from .i18n import localtime

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

TEXTS = {
    "task_claimable": _l("New task you can claim: %(title)s (case %(case)s)"),
    "task_assigned": _l("%(actor)s reassigned a task to you: %(title)s (case %(case)s)"),
    "task_delegated": _l("%(actor)s assigned a task to you: %(title)s (case %(case)s)"),
    "handoff_pending": _l("A handoff awaits your approval: %(title)s (case %(case)s)"),
    "deadline_soon": _l("Due within one working day, at %(due)s: %(title)s (case %(case)s)"),
    "deadline_passed": _l("Overdue since %(due)s: %(title)s (case %(case)s)"),
    # To an observing agency (the procuratorate copied on a transfer): the copy, and what it is told.
    "case_copied": _l("The transfer letter of case %(case)s is copied to your agency: you may read the case"),
    "non_filing_reported": _l("The police decided not to file case %(case)s"),
    "non_filing_upheld_reported": _l("On reconsideration the police upheld not filing case %(case)s"),
    "transfer_refused_reported": _l("The market supervision bureau decided not to transfer case %(case)s"),
    "transfer_abandoned_reported": _l("The transfer of case %(case)s was given up after repeated returns"),
    "filing_overdue_reported": _l("The police did not decide on filing case %(case)s by %(due)s"),
    "evidence_damaged": _l("Evidence %(title)s is damaged: its file no longer matches its SHA-256 (case %(case)s)"),
    "verdict_overridden": _l("Your verdict on evidence %(title)s was changed to not recognised: its file "
                             "failed the hash check (case %(case)s)"),
    "result_recorded": _l("%(actor)s recorded a result after filing (case %(case)s)"),
    # To the responsible agency's liaisons (engine/mechanisms/action_withdrawal.py).
    "action_item_withdrawn": _l("%(actor)s withdrew the consultation action item given to your agency: "
                                "%(title)s (case %(case)s)"),
}


def notification_text(row: Notification) -> str:
    """What the notification says, in the current language."""
    params = row.params or {}
    due = params.get("due_at")
    return str(TEXTS[row.kind]) % {
        "title": workflow_text.translate(params.get("title", "")), "case": params.get("case_number", ""),
        "actor": params.get("actor") or _("A liaison"),
        "due": localtime(datetime.fromisoformat(due)) if due else "",
    }


def notification_link(row: Notification) -> str:
    """Through `open_notification`, which marks it read on the way to what it is about."""
    return url_for("notifications.open_notification", notification_id=row.id)


def _target(row: Notification) -> str:
    """The task the notification is about, else the evidence item, else its case."""
    if row.task_id is not None:
        return url_for("tasks.show", task_id=row.task_id)
    if (row.params or {}).get("evidence_id"):
        return url_for("evidence.show", case_id=row.case_id, evidence_id=row.params["evidence_id"])
    return url_for("cases.show", case_id=row.case_id)


def is_unread(row: Notification) -> bool:
    """As the engine counts it: not read, and its task (if any) still open; a notice of work
    that was completed or cancelled meanwhile is read."""
    return row.read_at is None and (row.task is None or row.task.state == HumanTaskState.OPEN)


def by_case(rows) -> list[tuple[str, str, list[Notification]]]:
    """The page's notifications grouped by case (case number, case title, its notices), the
    case with the newest notice first, each group newest first."""
    groups: dict[int, tuple[str, str, list[Notification]]] = {}
    for row in rows:
        params = row.params or {}
        groups.setdefault(row.case_id, (params.get("case_number", ""), params.get("case_title", ""), []))[2].append(row)
    return list(groups.values())


@bp.route("")
@login_required
def index():
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    unread_only = request.args.get("unread") == "1"
    page = engine.my_notifications(db.session, actor(), page_number,
                                   current_app.config["INBOX_PAGE_SIZE"], unread_only)
    return render_template("notifications/index.html", page=page, unread_only=unread_only,
                           groups=by_case(page.items))


@bp.route("/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Following a notification marks it read (a personal flag, so a link may set it), then
    shows what it is about."""
    row = engine.mark_read(db.session, actor(), notification_id)
    return redirect(_target(row), code=303)


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    engine.mark_read(db.session, actor(), notification_id)
    flash(_("Marked as read."), "info")
    return redirect(_back(), code=303)


@bp.route("/read", methods=["POST"])
@login_required
def mark_all_read():
    engine.mark_all_read(db.session, actor())
    flash(_("All notifications marked as read."), "info")
    return redirect(_back(), code=303)


def _back() -> str:
    """The list page the form was on (its page number kept), never another site."""
    page = request.form.get("page", type=int)
    return url_for("notifications.index", page=page if page and page > 1 else None,
                   unread="1" if request.form.get("unread") == "1" else None)


def unread_notifications() -> int:
    """The header badge: the signed-in user's unread count (0 when signed out)."""
    if not current_user.is_authenticated:
        return 0
    return engine.unread_count(db.session, actor())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(unread_notifications=unread_notifications,
                                 notification_text=notification_text,
                                 notification_link=notification_link, notification_unread=is_unread)
