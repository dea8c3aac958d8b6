"""The inbox: open tasks of the user's lanes and tasks claimed by them, soonest deadline first.

Filters (mechanism, case, deadline window) and the order are plain query parameters of a GET
form, so they work without JavaScript and every filtered page has its own address.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

import engine

from . import labels
from .auth import actor
from .db import db

bp = Blueprint("inbox", __name__)

# Tab order and names; the keys are engine.INBOX_VIEWS.
VIEWS = {"all": _l("All"), "mine": _l("Mine"), "claimable": _l("Claimable")}
# Deadline windows; the keys are engine.DUE_WINDOWS.
DUE = {"overdue": _l("Overdue"), "week": _l("Due within 7 days"), "none": _l("No deadline")}
SORTS = {"due": _l("Soonest deadline first"), "-due": _l("Latest deadline first")}


def _filters(mechanisms: set[str]) -> dict[str, str]:
    """The filter parameters of the request, each dropped when it is not a known value."""
    wanted = {
        "mechanism": request.args.get("mechanism", ""),
        "case": request.args.get("case", "").strip()[:100],
        "due": request.args.get("due", ""),
        "sort": request.args.get("sort", ""),
    }
    allowed = {"mechanism": mechanisms, "due": set(engine.DUE_WINDOWS), "sort": set(engine.INBOX_SORTS)}
    return {k: v for k, v in wanted.items() if v and (k not in allowed or v in allowed[k])}


@bp.route("/")
@login_required
def index():
    view = request.args.get("view", "all")
    if view not in engine.INBOX_VIEWS:
        view = "all"
    page_number = request.args.get("page", 1, type=int) or 1
    models = engine.latest_models(db.session)
    filters, now = _filters({m.key for m in models}), db.clock.now()
    narrow = engine.InboxFilter(mechanism=filters.get("mechanism"), case=filters.get("case"),
                                due=filters.get("due"), now=now, sort=filters.get("sort", "due"))
    page = engine.inbox(db.session, actor(), view, max(1, page_number),
                        current_app.config["INBOX_PAGE_SIZE"], narrow=narrow)
    return render_template("inbox/index.html", page=page, view=view, views=VIEWS, now=now,
                           filters=filters, due_windows=DUE, sorts=SORTS,
                           mechanisms=models, subjects=subjects(page.items),
                           approvable=engine.batch_approvable(db.session, actor(), page.items))


def subjects(tasks) -> dict[int, str]:
    """What each task is about in one line (the evidence item under review, the consultation's
    topic), in the page's language: {task id: text}."""
    return {task_id: _("%(label)s: %(value)s", label=labels.context_text(line[0]),
                       value=labels.context_text(line[1]))
            for task_id, line in engine.task_subjects(db.session, actor(), tasks).items()}
