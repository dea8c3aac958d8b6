"""Logging in and out. A failed login says the same thing, with the same status, whether the
user is unknown, the password wrong or the account locked. Login attempts are throttled per
client address (flask-limiter, storage from RATELIMIT_STORAGE_URI) and counted per account
(lockout, in the engine)."""
from __future__ import annotations

from urllib.parse import urlsplit

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

import engine
from models import User

from .db import db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.session_protection = "strong"
# Keyed by client address; behind a reverse proxy, apply werkzeug's ProxyFix so this is the
# client's address and not the proxy's.
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _api_request() -> bool:
    """API requests have no rate limits (a bearer token is not guessed by retrying; the login
    form is what is throttled), so they skip the limiter's per-request bookkeeping: several
    requests per task step, each of which would otherwise resolve and evaluate an empty set
    of limits."""
    from .api.problems import is_api_request  # web.api imports this module's pages' helpers

    return is_api_request()


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
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = engine.authenticate(
            db.session, username, password, current_app.config["LOGIN_MAX_FAILURES"],
            timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
        ) if username and password else None
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
