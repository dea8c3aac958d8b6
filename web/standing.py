"""/handoffs/standing: an agency's liaisons approve kinds of hand-off once for all.

Each hand-off between agencies is approved by a liaison of the agency it leaves or enters. A
liaison may grant a standing approval (常设批准) for one step of one mechanism whose form asks
only yes-answers, with a reason: such tasks of the agency are then approved in their name as
they open (engine/casework/standing.py), and the timeline says so. Revoking it, with a reason,
puts the step back in the liaisons' inbox. Both are audited.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine

from . import forms
from .auth import actor
from .db import db

bp = Blueprint("standing", __name__, url_prefix="/handoffs/standing")


def _agency():
    """The agency whose standing approvals the page shows: the one where the user is a liaison
    (`?agency=<code>` when there are several)."""
    user = actor()
    agencies = [m.agency for m in user.memberships if m.role == "liaison"]
    if not agencies:
        abort(403)
    code = request.values.get("agency")
    chosen = next((a for a in agencies if a.code == code), agencies[0]) if code else agencies[0]
    return chosen, agencies


def _render(errors: dict | None = None, values: dict | None = None, status: int = 200):
    agency, agencies = _agency()
    rows = engine.standing_approvals(db.session, actor(), agency.id)
    active = {(row.process_key, row.bpmn_id): row for row in rows if row.revoked_at is None}
    return render_template(
        "handoffs/standing.html", agency=agency, agencies=agencies,
        steps=engine.handoff_steps(db.session, agency), active=active,
        revoked=[row for row in rows if row.revoked_at is not None],
        errors=errors or {}, values=values or {}), status


@bp.route("/")
@login_required
def index():
    return _render()


def _errors(exc: engine.InvalidInput) -> dict:
    return {key: [forms.explain(message) for message in messages] for key, messages in exc.errors.items()}


@bp.route("/grant", methods=["POST"])
@login_required
def grant():
    agency, _agencies = _agency()
    step = request.form.get("step", "")
    process_key, _dot, bpmn_id = step.partition(":")
    reason = request.form.get("reason", "")
    try:
        engine.grant_standing_approval(db.session, actor(), agency.id, process_key, bpmn_id, reason)
    except engine.InvalidInput as exc:
        errors = _errors(exc)
        for message in errors.pop("step", []):  # no row of the table to show it on
            flash(message, "error")
        return _render({step: errors}, {step: reason}, 422)
    except engine.Conflict:
        flash(_("This step already has a standing approval."), "error")
        return redirect(url_for("standing.index", agency=agency.code), code=303)
    flash(_("Standing approval granted: such hand-offs are approved in your name as they arrive."), "info")
    return redirect(url_for("standing.index", agency=agency.code), code=303)


@bp.route("/<int:standing_id>/revoke", methods=["POST"])
@login_required
def revoke(standing_id: int):
    agency, _agencies = _agency()
    reason = request.form.get("revoke_reason", "")
    try:
        engine.revoke_standing_approval(db.session, actor(), standing_id, reason)
    except engine.InvalidInput as exc:
        return _render({f"revoke-{standing_id}": _errors(exc)}, {f"revoke-{standing_id}": reason}, 422)
    except engine.Conflict:
        flash(_("This standing approval was revoked already."), "error")
        return redirect(url_for("standing.index", agency=agency.code), code=303)
    flash(_("Standing approval revoked: such hand-offs wait for a liaison again."), "info")
    return redirect(url_for("standing.index", agency=agency.code), code=303)
