"""/admin/users: the accounts of the district, for administrators.

An administrator ends a user's sessions (a lost laptop, a shared screen), switches an account
off or on again, and clears the login back-off of an account (web/auth.py). Each is one audited
engine transaction; the engine refuses everyone but administrators (403).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine

from .auth import actor
from .db import db

bp = Blueprint("users_admin", __name__, url_prefix="/admin/users")


@bp.route("/")
@login_required
def index():
    session = db.session
    return render_template("admin/users.html", users=engine.user_accounts(session, actor()),
                           throttled=engine.throttled(session, actor()))


def _done(message: str):
    flash(message, "info")
    return redirect(url_for("users_admin.index"), code=303)


@bp.route("/<int:user_id>/end-sessions", methods=["POST"])
@login_required
def end_sessions(user_id: int):
    user = engine.user_account(db.session, actor(), user_id)
    engine.end_sessions(db.session, actor(), user, reason="administrator")
    return _done(_("Every session of %(name)s has ended.", name=user.display_name))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate(user_id: int):
    user = engine.user_account(db.session, actor(), user_id)
    engine.set_active(db.session, actor(), user, False)
    return _done(_("%(name)s can no longer log in or use API tokens.", name=user.display_name))


@bp.route("/<int:user_id>/activate", methods=["POST"])
@login_required
def activate(user_id: int):
    user = engine.user_account(db.session, actor(), user_id)
    engine.set_active(db.session, actor(), user, True)
    return _done(_("%(name)s can log in again.", name=user.display_name))


@bp.route("/<int:user_id>/unlock", methods=["POST"])
@login_required
def unlock(user_id: int):
    user = engine.user_account(db.session, actor(), user_id)
    engine.unlock_user(db.session, actor(), user)
    return _done(_("%(name)s can be logged in to from every address again.", name=user.display_name))
