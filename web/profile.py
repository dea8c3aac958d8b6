"""The user's profile: who they are, their language, mail address and password, and their
personal API tokens (create with an expiry, revoke; each shows when it was last used).

A new token is shown once, in the response to the form that created it, never stored in the
session (a signed cookie is readable) or in the database (only its hash is kept).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine

from .auth import actor, limiter, start_session
from .db import db

bp = Blueprint("profile", __name__, url_prefix="/profile")


# Expiries offered for a new token, in days; those above the configured maximum are left out.
TOKEN_DAYS = (30, 90, 180, 365)


def _token_days() -> list[int]:
    most = current_app.config["API_TOKEN_DAYS"]
    return sorted({d for d in TOKEN_DAYS if d < most} | {most})


def _render(new_token: str | None = None, values=None, errors=None, status: int = 200):
    user = actor()
    values = {"name": "", "days": str(current_app.config["API_TOKEN_DAYS"]), **(values or {})}
    return render_template(
        "profile/index.html", user=user, tokens=engine.user_tokens(db.session, user),
        new_token=new_token, values=values, errors=errors or {}, token_days=_token_days(),
        now=db.clock.now(),
    ), status


@bp.route("")
@login_required
def index():
    return _render()


@bp.route("/tokens", methods=["POST"])
@login_required
def create_token():
    name = request.form.get("name", "")
    most = current_app.config["API_TOKEN_DAYS"]
    days = request.form.get("days") or str(most)
    user = actor()
    try:
        _row, token = engine.create_token(db.session, user, name, actor=user,
                                          days=int(days) if days.isdigit() else 0, max_days=most)
    except engine.InvalidInput as exc:
        # The engine's reasons said in the user's language, per field.
        texts = {"name": _("Give the token a name of 1 to 80 characters."),
                 "days": _("Choose how long the token works, from 1 to %(most)s days.", most=most)}
        errors = {field: [texts[field]] for field in exc.errors if field in texts}
        return _render(values={"name": name, "days": days}, errors=errors, status=422)
    body, status = _render(new_token=token)
    # The token is in this page only: keep it out of every cache.
    return body, status, {"Cache-Control": "no-store"}


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    user = actor()
    engine.revoke_token(db.session, user, token_id, owner=user)
    flash(_("The token was revoked; systems using it can no longer call the API."), "info")
    return redirect(url_for("profile.index"), code=303)


@bp.route("/password", methods=["POST"])
@login_required
# Guessing the current password here is throttled like the login form.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def change_password():
    """A new password ends every session of the user, on every device; this browser is logged in
    again at once, so only the others have to log in anew."""
    user = actor()
    try:
        engine.change_password(db.session, user, request.form.get("current_password", ""),
                               request.form.get("new_password", ""))
    except engine.InvalidInput as exc:
        texts = {"current_password": _("This is not your current password."),
                 "new_password": _("The new password needs at least 8 characters.")}
        errors = {field: [texts[field]] for field in exc.errors if field in texts}
        return _render(errors=errors, status=422)
    start_session(user)
    flash(_("Your password was changed. Your other sessions have ended."), "info")
    return redirect(url_for("profile.index"), code=303)


@bp.route("/language", methods=["POST"])
@login_required
def set_language():
    """Keep the pages' language on the user (empty: follow the browser); it replaces a choice
    made with ?lang= earlier in this session."""
    language = request.form.get("language") or None
    try:
        engine.set_language(db.session, actor(), language)
    except engine.InvalidInput:
        flash(_("Choose one of the languages offered."), "error")
        return redirect(url_for("profile.index"), code=303)
    session.pop("lang", None)
    flash(_("Your language setting was saved."), "info")
    return redirect(url_for("profile.index"), code=303)


@bp.route("/email", methods=["POST"])
@login_required
def set_email():
    """The address notifications are also mailed to, when the district has mail switched on."""
    email = request.form.get("email", "")
    try:
        engine.set_email(db.session, actor(), email)
    except engine.InvalidInput:
        errors = {"email": [_("Enter an email address such as name@example.gov.cn, or leave it empty.")]}
        return _render(values={"name": "", "email": email}, errors=errors, status=422)
    flash(_("Your email address was saved."), "info")
    return redirect(url_for("profile.index"), code=303)
