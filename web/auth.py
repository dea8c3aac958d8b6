"""Logging in and out. A failed login says the same thing, with the same status, whether the
user is unknown, the password wrong or the address made to wait. Login attempts are throttled per
client address (flask-limiter, storage from RATELIMIT_STORAGE_URI) and, with a growing wait,
per account and address together (engine/access/logins.py), never for the account as a whole.

A session ends server-side: the signed cookie names the user and their session epoch at login
(`LoginUser.get_id`), and the loader refuses a cookie whose epoch is no longer the user's
(logout, password change, deactivation, an administrator ending their sessions all raise it),
one that has been idle longer than SESSION_IDLE_MINUTES, or one older than SESSION_MAX_HOURS."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

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
        # What Flask-Login keeps in the signed cookie: the epoch makes it expire server-side.
        return f"{self.model.id}:{self.model.session_epoch}"

    def __getattr__(self, name: str):
        return getattr(self.model, name)


# Times (seconds since the epoch, by the app's clock) kept in the signed session.
LOGIN_AT, SEEN_AT = "login_at", "seen_at"
# How stale the last-seen time may get before it is written again: a request within this long of
# the last one leaves the cookie as it is, so not every response sets a new one.
SEEN_RESOLUTION = 60.0
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds", LOGIN_AT, SEEN_AT)


def _forget_login() -> None:
    """Drop the login from the session, keeping what is not about it (the chosen language)."""
    for key in _LOGIN_KEYS:
        session.pop(key, None)


def _within_lifetimes(now: float) -> bool:
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return False  # a cookie from before lifetimes were kept
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["SESSION_MAX_HOURS"] * 3600
    return now - seen_at <= idle and now - login_at <= longest


@login_manager.user_loader
def load_user(user_id: str) -> LoginUser | None:
    """The cookie's user if the session is still theirs: the same session epoch, not idle too
    long, not too old. Otherwise the login is dropped from the session (the browser gets a
    cookie without it) and the request is anonymous, so pages redirect to the login page."""
    user_part, _, epoch = user_id.partition(":")
    user = db.session.get(User, int(user_part)) if user_part.isdigit() and epoch.isdigit() else None
    now = db.clock.now().timestamp()
    if (user is None or not user.active or user.session_epoch != int(epoch)
            or not _within_lifetimes(now)):
        _forget_login()
        return None
    if now - session[SEEN_AT] >= SEEN_RESOLUTION:
        session[SEEN_AT] = now
    return LoginUser(user)


def start_session(user: User) -> None:
    """Log `user` in on this session with their current epoch, keeping the time the login began
    if it is already running (a password change logs the user in again)."""
    now = db.clock.now().timestamp()
    login_at = session.get(LOGIN_AT) if current_user.is_authenticated else None
    login_user(LoginUser(user))
    session[LOGIN_AT] = login_at or now
    session[SEEN_AT] = now


def actor() -> User:
    """The logged-in user as the engine wants it (the model, bound to this request's session)."""
    return current_user.model


def landing(user: User) -> str:
    """Where the user's work is: the inbox, unless no task can ever reach them
    (`policy.has_inbox`): then the clues for those who register them (a service station's
    intake staff), the accounts for administrators, the supervision pages for other overseers."""
    if engine.policy.has_inbox(user):
        return url_for("inbox.index")
    if engine.policy.can_register_clue(user):
        return url_for("clues.index")
    if engine.policy.can_administer(user):
        return url_for("users_admin.index")
    if engine.policy.can_supervise(user):
        return url_for("supervision.index")
    return url_for("inbox.index")


def _safe_next(target: str | None, user: User) -> str:
    # Only same-site paths: an absolute or scheme-relative URL would make login an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return landing(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(landing(actor()))
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        config = current_app.config
        user = engine.authenticate(
            db.session, username, password, request.remote_addr or "unknown",
            config["LOGIN_MAX_FAILURES"], timedelta(seconds=config["LOGIN_BACKOFF_SECONDS"]),
            timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
        ) if username and password else None
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session at login, so a planted cookie gains nothing
            if lang:
                session["lang"] = lang
            start_session(user)
            return redirect(_safe_next(request.args.get("next"), user))
        flash(_("Invalid username or password."), "error")
        status = 401
    return render_template("auth/login.html"), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Raising the epoch ends this session everywhere a copy of its cookie may be, and the
    # user's other sessions with it.
    user = actor()
    engine.end_sessions(db.session, user, user, reason="logout")
    logout_user()
    _forget_login()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
