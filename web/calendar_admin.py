"""/admin/calendar: the days an administrator entered into the business calendar.

Official holidays come from the `chinese-calendar` package up to the last year the State Council
announced; an administrator enters corrections and, until the package catches up, next year's
holidays and swapped working days. Each change is one audited engine transaction
(engine/time/calendar_store.py); the engine refuses everyone but administrators (403).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine
from engine import calendar_days, clear_calendar_day, set_calendar_day

from . import forms
from .auth import actor
from .db import db

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")
KINDS = ("rest", "working")


def _render(values: dict, errors: dict, status: int = 200):
    # The notice about years without official data comes with base.html (web/supervision.py).
    return render_template("admin/calendar.html", days=calendar_days(db.session, actor()), values=values,
                           errors=errors), status


@bp.route("/")
@login_required
def index():
    return _render({"day": "", "kind": "rest", "note": ""}, {})


@bp.route("/", methods=["POST"])
@login_required
def enter():
    values = {key: request.form.get(key, "").strip() for key in ("day", "kind", "note")}
    errors: dict[str, list[str]] = {}
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors["day"] = [_("Enter a date such as 2027-01-01.")]
    if values["kind"] not in KINDS:
        errors["kind"] = [_("Choose working day or rest day.")]
    if not errors:
        try:
            set_calendar_day(db.session, actor(), day, values["kind"] == "working", values["note"])
        except engine.InvalidInput as exc:
            errors = {k: [forms.explain(m) for m in v] for k, v in exc.errors.items()}
    if errors:
        return _render(values, errors, 422)
    flash(_("%(day)s was entered.", day=day.isoformat()), "info")
    return redirect(url_for("calendar_admin.index"), code=303)


@bp.route("/<day>/clear", methods=["POST"])
@login_required
def clear(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise engine.NotFound(f"{day} is not a date") from None
    clear_calendar_day(db.session, actor(), parsed)
    flash(_("%(day)s was removed; the official calendar applies again.", day=parsed.isoformat()), "info")
    return redirect(url_for("calendar_admin.index"), code=303)
