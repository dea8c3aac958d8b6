"""The user's profile: who they are, their language and mail address, and their personal API
tokens (create, revoke).

A new token is shown once, in the response to the form that created it, never stored in the
session (a signed cookie is readable) or in the database (only its hash is kept).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine

from .auth import actor
from .db import db

bp = Blueprint("profile", __name__, url_prefix="/profile")


def _render(new_token: str | None = None, values=None, errors=None, status: int = 200):
    user = actor()
    return render_template(
        "profile/index.html", user=user, tokens=engine.user_tokens(db.session, user),
        new_token=new_token, values=values or {"name": ""}, errors=errors or {},
    ), status


@bp.route("")
@login_required
def index():
    return _render()


@bp.route("/tokens", methods=["POST"])
@login_required
def create_token():
    name = request.form.get("name", "")
    user = actor()
    try:
        _row, token = engine.create_token(db.session, user, name, actor=user)
    except engine.InvalidInput:
        # The only field is the name, so the engine's reason can be said in the user's language.
        errors = {"name": [_("Give the token a name of 1 to 80 characters.")]}
        return _render(values={"name": name}, errors=errors, status=422)
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
