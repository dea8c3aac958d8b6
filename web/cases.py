"""Cases: opening one, the list of cases the user's agency takes part in, and a case's page."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine
from engine import case_documents
from models import CONFIDENTIALITY_LEVELS, InstanceStatus

from . import forms, workflow_text
from .auth import actor
from .db import db

bp = Blueprint("cases", __name__, url_prefix="/cases")
# The mechanism the new-case form ticks, and starts for a client that does not choose.
TRANSFER = "case_transfer"


@bp.route("/")
@login_required
def index():
    return render_template("cases/index.html", cases=engine.visible_cases(db.session, actor()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Only market-supervision handlers may open cases; the engine decides (403 otherwise).

    The form offers the mechanisms to start, 立案协助 ticked; a post without the form's
    `mechanisms_offered` marker (a client that predates the choice) starts 立案协助 alone."""
    values = {"title": "", "confidentiality": "confidential"}
    chosen = [TRANSFER]
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        if request.form.get("mechanisms_offered"):
            chosen = request.form.getlist("mechanisms")
        try:
            case = engine.create_case(db.session, actor(), values["title"], values["confidentiality"],
                                      mechanisms=chosen)
        except engine.InvalidInput as exc:
            errors = {k: [forms.explain(m) for m in v] for k, v in exc.errors.items()}
        else:
            return redirect(url_for("cases.show", case_id=case.id), code=303)
    return render_template("cases/new.html", values=values, errors=errors, levels=CONFIDENTIALITY_LEVELS,
                           mechanisms=engine.opening_mechanisms(db.session, actor()), chosen=chosen), \
        422 if errors else 200


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    return render_case(engine.visible_case(db.session, actor(), case_id))


def render_case(case, evidence_values=None, evidence_errors=None, status: int = 200):
    """The case page; the evidence upload form shows `evidence_errors` when it was refused."""
    session, user = db.session, actor()
    action_items = engine.consultation_action_items(session, user, case)
    return render_template(
        "cases/show.html", case=case, instances=engine.case_instances(session, case),
        tasks=engine.case_tasks(session, case), timeline=engine.case_timeline(session, case),
        evidence=engine.list_evidence(session, user, case.id), now=db.clock.now(),
        documents=case_documents(session, user, case.id),
        evidence_values=evidence_values or {"confidential": "true"}, evidence_errors=evidence_errors or {},
        mechanisms=engine.startable_mechanisms(session, user, case),
        duplicate_starts=engine.duplicate_starts(session, user, case),
        action_items=action_items,
        withdrawable={i.id for i in action_items if engine.action_item_withdrawable(session, user, i)},
    ), status


@bp.route("/<int:case_id>/mechanisms", methods=["POST"])
@login_required
def start_mechanism(case_id: int):
    """Start another mechanism on the case. The diagram's `startable_by` lanes decide who may:
    the engine answers Forbidden (403) for others and NotFound (404) for an unknown key; a
    second running instance of the same mechanism needs `confirm_reason` (422 without it)."""
    key = request.form.get("key", "")
    try:
        instance = engine.start_mechanism(db.session, actor(), case_id, key,
                                          confirm_reason=request.form.get("confirm_reason", ""))
    except engine.InvalidInput as exc:
        # A second running instance needs a reason: the case page again, saying so (422).
        for messages in exc.errors.values():
            for message in messages:
                flash(_("This mechanism is already running on the case: give a reason to start it again.")
                      if message.startswith("required:") else forms.explain(message), "error")
        return render_case(engine.visible_case(db.session, actor(), case_id), status=422)
    flash(_("Started: %(name)s", name=workflow_text.translate(instance.process_model.name)), "info")
    return redirect(url_for("cases.show", case_id=case_id), code=303)


@bp.route("/<int:case_id>/action-items/<int:item_id>/withdraw", methods=["POST"])
@login_required
def withdraw_action_item(case_id: int, item_id: int):
    """The convening agency withdraws an open task item of a consultation with its reason. The
    engine decides who may (403 otherwise); without a reason the page again says so (422); an item
    closed meanwhile, or whose task runs on an older diagram, is the page again saying why (409)."""
    session, user = db.session, actor()
    try:
        engine.withdraw_action_item(session, user, case_id, item_id, request.form.get("reason", ""))
    except engine.InvalidInput:
        flash(_("Give the reason for withdrawing the action item, in at most 1000 characters."), "error")
        return render_case(engine.visible_case(session, user, case_id), status=422)
    except engine.Conflict as exc:
        flash(_("This action item runs on an older version of its process and cannot be withdrawn: ask the "
                "responsible agency to cancel it.") if "older version" in str(exc) else
              _("This action item is closed already: only an open item can be withdrawn."), "error")
        return render_case(engine.visible_case(session, user, case_id), status=409)
    flash(_("The action item is withdrawn; the responsible agency's liaisons are told."), "info")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="action-items"), code=303)


@bp.route("/<int:case_id>/instances/<int:instance_id>/retry", methods=["POST"])
@login_required
def retry(case_id: int, instance_id: int):
    """An administrator re-runs an instance stopped by a script error, optionally with
    corrected variables; the engine decides who may (403) and whether it is stopped (409)."""
    session, user = db.session, actor()
    case = engine.visible_case(session, user, case_id)
    if instance_id not in {i.id for i in engine.case_instances(session, case)}:
        abort(404)
    try:
        corrections = json.loads(request.form.get("corrections") or "{}")
    except json.JSONDecodeError as exc:
        flash(_("Corrected variables are not valid JSON: %(reason)s", reason=exc.msg), "error")
        return redirect(url_for("cases.show", case_id=case_id), code=303)
    if not isinstance(corrections, dict):
        flash(_("Corrected variables must be a JSON object."), "error")
        return redirect(url_for("cases.show", case_id=case_id), code=303)
    instance = engine.retry_instance(session, user, instance_id, corrections)
    if instance.status == InstanceStatus.ERROR:
        flash(_("The instance stopped again: %(message)s", message=instance.error["message"]), "error")
    else:
        flash(_("The instance runs again."), "info")
    return redirect(url_for("cases.show", case_id=case_id), code=303)
