"""Logging in and out. Failed logins say the same thing whether or not the user exists."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

import engine
from models import User

from .db import db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.session_protection = "strong"


class LoginUser:
    """Flask-Login's view of a `models.User`; attribute access falls through to the model."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.model = user

    @property
    def is_active(self) -> bool:
        return self.model.active

    def get_id(self) -> str:
        return str(self.model.id)

    def __getattr__(self, name: str):
        return getattr(self.model, name)


@login_manager.user_loader
def load_user(user_id: str) -> LoginUser | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return LoginUser(user) if user is not None and user.active else None


def actor() -> User:
    """The logged-in user as the engine wants it (the model, bound to this request's session)."""
    return current_user.model


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an absolute or scheme-relative URL would make login an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = engine.authenticate(db.session, username, password) if username and password else None
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session at login, so a planted cookie gains nothing
            if lang:
                session["lang"] = lang
            login_user(LoginUser(user))
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Invalid username or password."), "error")
        status = 401
    return render_template("auth/login.html"), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
