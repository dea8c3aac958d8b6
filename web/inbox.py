"""The inbox: open tasks of the user's lanes and tasks claimed by them, soonest deadline first."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required

import engine

from .auth import actor
from .db import db

bp = Blueprint("inbox", __name__)

# Tab order and names; the keys are engine.INBOX_VIEWS.
VIEWS = {"all": _l("All"), "mine": _l("Mine"), "claimable": _l("Claimable")}


@bp.route("/")
@login_required
def index():
    view = request.args.get("view", "all")
    if view not in engine.INBOX_VIEWS:
        view = "all"
    page_number = request.args.get("page", 1, type=int) or 1
    page = engine.inbox(db.session, actor(), view, max(1, page_number),
                        current_app.config["INBOX_PAGE_SIZE"])
    return render_template("inbox/index.html", page=page, view=view, views=VIEWS,
                           now=db.clock.now())
