"""Rights holders of a case and the notices they are owed: the case page's section (the partial
cases/_parties.html reads it through the template globals below), the forms to record and correct
a holder, to generate an owed notice and to record a notice's delivery.

The engine decides who may (NotFound, Forbidden) and checks every field (InvalidInput, shown on
the form with status 422); every change is one audited transaction there.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

import engine
from models import DELIVERY_METHODS, HOLDER_KINDS

from . import forms
from .auth import actor
from .db import db

bp = Blueprint("parties", __name__)
HOLDER_FIELDS = ("name", "kind", "contact", "representative", "agent")
DELIVERY_FIELDS = ("method", "delivered_at", "delivered_by", "recipient", "note", "holder_id")
HOLDER_KIND_LABELS = {"person": _l("Natural person"), "company": _l("Company or organisation")}
DELIVERY_METHOD_LABELS = {"in_person": _l("In person"), "post": _l("By post"), "email": _l("By e-mail"),
                          "phone": _l("By phone"), "online": _l("Online")}
NOTICE_KIND_LABELS = {
    "complaint_decision_notice": _l("Decision on the complaint"),
    "administrative_result_notice": _l("Result of the administrative case"),
    "preservation_outcome_notice": _l("Outcome of the preservation application"),
    "holder_non_filing_notice": _l("Police decision not to file the holder's report"),
    "holder_reconsideration_decision": _l("Police decision on the holder's reconsideration"),
    "holder_late_request_refusal": _l("Refusal of the holder's late request for reconsideration"),
    "holder_supervision_reply": _l("Procuratorate's answer to the request for filing supervision"),
}
NOTICE_STATE_LABELS = {"owed": _l("Not generated"), "generated": _l("Generated, not delivered"),
                       "delivered": _l("Delivered")}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        case_rights_holders=lambda case: engine.rights_holders(db.session, actor(), case.id),
        case_holder_notices=lambda case: engine.holder_notices(db.session, actor(), case.id),
        HOLDER_KIND_LABELS=HOLDER_KIND_LABELS, DELIVERY_METHOD_LABELS=DELIVERY_METHOD_LABELS,
        NOTICE_STATE_LABELS=NOTICE_STATE_LABELS, NOTICE_KIND_LABELS=NOTICE_KIND_LABELS,
    )


def explain(message: str) -> str:
    known = {
        "required": _("This field is required."),
        "must not be in the future": _("The time must not be in the future."),
        "must not be before the notice was generated": _("The notice cannot be delivered before it was generated."),
        "not a rights holder of this case": _("Choose a rights holder of this case."),
    }
    return str(known.get(message) or forms.explain(message))


def _errors(exc: engine.InvalidInput) -> dict[str, list[str]]:
    return {field: [explain(m) for m in messages] for field, messages in exc.errors.items()}


def _local_time(value: str) -> str:
    """A datetime-local value is wall-clock time where the page is shown; anything unparsable goes
    to the engine as it is, which names it as the field's error."""
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    return local.isoformat()


def _holder_form(case, values, errors, holder=None):
    return render_template("parties/holder_form.html", case=case, values=values, errors=errors, holder=holder,
                           kinds=HOLDER_KINDS), 422 if errors else 200


@bp.route("/cases/<int:case_id>/rights-holders/new", methods=["GET", "POST"])
@login_required
def add_holder(case_id: int):
    session, user = db.session, actor()
    case = engine.visible_case(session, user, case_id)
    values = dict.fromkeys(HOLDER_FIELDS, "") | {"kind": "company"}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in HOLDER_FIELDS}
        try:
            engine.add_rights_holder(session, user, case.id, values)
        except engine.InvalidInput as exc:
            errors = _errors(exc)
        else:
            flash(_("Rights holder recorded."), "info")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="rights-holders"), code=303)
    return _holder_form(case, values, errors)


@bp.route("/rights-holders/<int:holder_id>/edit", methods=["GET", "POST"])
@login_required
def edit_holder(holder_id: int):
    session, user = db.session, actor()
    holder = engine.visible_rights_holder(session, user, holder_id)
    values = {name: getattr(holder, name) for name in HOLDER_FIELDS}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in HOLDER_FIELDS}
        try:
            engine.update_rights_holder(session, user, holder.id, values)
        except engine.InvalidInput as exc:
            errors = _errors(exc)
        else:
            flash(_("Rights holder updated."), "info")
            return redirect(url_for("cases.show", case_id=holder.case_id, _anchor="rights-holders"), code=303)
    return _holder_form(holder.case, values, errors, holder)


@bp.route("/cases/<int:case_id>/holder-notices", methods=["POST"])
@login_required
def generate_notice(case_id: int):
    """Generate an owed notice its diagram does not issue itself (403, 404, 409 from the engine)."""
    session, user = db.session, actor()
    case = engine.visible_case(session, user, case_id)
    try:
        task_id = int(request.form.get("task_id", ""))
    except ValueError:
        raise engine.NotFound("no such task") from None
    task = engine.visible_task(session, user, task_id)
    if task.case_id != case.id:
        raise engine.NotFound(f"task {task_id} does not exist")
    document = engine.generate_holder_notice(session, user, task.id)
    flash(_("Notice %(number)s generated.", number=document.number), "info")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="holder-notices"), code=303)


@bp.route("/holder-notices/<int:document_id>/deliveries/new", methods=["GET", "POST"])
@login_required
def add_delivery(document_id: int):
    session, user = db.session, actor()
    document = engine.visible_notice(session, user, document_id)
    deliveries = engine.notice_deliveries(session, user, document_id)
    values = dict.fromkeys(DELIVERY_FIELDS, "") | {"method": "in_person"}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in DELIVERY_FIELDS}
        try:
            engine.record_delivery(session, user, document_id,
                                   values | {"delivered_at": _local_time(values["delivered_at"])})
        except engine.InvalidInput as exc:
            errors = _errors(exc)
        else:
            flash(_("Delivery recorded."), "info")
            return redirect(url_for("cases.show", case_id=document.case_id, _anchor="holder-notices"), code=303)
    return render_template(
        "parties/delivery_form.html", document=document, deliveries=deliveries, values=values, errors=errors,
        methods=DELIVERY_METHODS, holders=engine.rights_holders(session, user, document.case_id),
    ), 422 if errors else 200

