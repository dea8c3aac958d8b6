"""Results after filing on the case page (its results section, `cases/_results.html`): the police
record the investigation, the procuratorate its decision, the court its judgment; the owning
agency closes the case once nothing runs on it. Who may do which is the engine's policy.
"""
from __future__ import annotations

import re

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

import engine
from models import MEASURE_KINDS, RESULT_OUTCOMES, RESULT_STAGES

from . import forms, workflow_text
from .auth import actor
from .cases import render_case
from .db import db

bp = Blueprint("results", __name__, url_prefix="/cases")
# Blank rows of compulsory measures the investigation form offers.
MEASURE_ROWS = 3

STAGE_LABELS = {"investigation": _l("Investigation (police)"), "prosecution": _l("Prosecution (procuratorate)"),
                "judgment": _l("Judgment (court)")}
OUTCOME_LABELS = {
    "prosecution_recommended": _l("Sent for prosecution"), "withdrawn": _l("Case withdrawn"),
    "prosecuted": _l("Prosecuted"), "not_prosecuted": _l("Not prosecuted"),
    "convicted": _l("Convicted"), "acquitted": _l("Acquitted"),
}
MEASURE_LABELS = {"summons": _l("Summons"), "bail": _l("Bail pending trial"),
                  "residential_surveillance": _l("Residential surveillance"), "detention": _l("Criminal detention"),
                  "arrest": _l("Arrest")}
PERSONS_LABELS = {"investigation": _l("Suspects"), "prosecution": _l("Persons"), "judgment": _l("Persons judged")}
_EXPLAINED = (
    (r"must not be in the future", lambda: _("The date must not be in the future.")),
    (r"when the case was opened", lambda: _("The date must not be before the case was opened.")),
    (r"date of the .*'s result", lambda: _("The date must not be before the result of the stage before.")),
    (r"must not be after the result's date", lambda: _("A measure's date must not be after the result's date.")),
    (r"is not a date", lambda: _("Enter a date such as 2026-03-01.")),
    (r"must be between", lambda: _("The number is out of range.")),
    (r"must be a whole number", lambda: _("Enter a whole number.")),
    (r"only a judgment awards compensation", lambda: _("Only a judgment awards compensation.")),
)


def explain(message: str) -> str:
    for pattern, text in _EXPLAINED:
        if re.search(pattern, message):
            return text()
    return forms.explain(message)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        case_results_for=case_results_for, result_form=result_form, RESULT_STAGES=RESULT_STAGES,
        RESULT_OUTCOMES=RESULT_OUTCOMES, MEASURE_KINDS=MEASURE_KINDS, RESULT_STAGE_LABELS=STAGE_LABELS,
        RESULT_OUTCOME_LABELS=OUTCOME_LABELS, MEASURE_LABELS=MEASURE_LABELS, RESULT_PERSONS_LABELS=PERSONS_LABELS,
        MEASURE_ROWS=MEASURE_ROWS)


def case_results_for(case):
    """The case's results for its page, or None where the reader may not see them."""
    if not engine.policy.allowed(db.session, actor(), "view_results", case):
        return None
    return engine.case_results(db.session, actor(), case.id)


def result_form(stage: str) -> tuple[dict, dict]:
    """(values, errors) of the stage's form as last submitted in this request, if it was refused."""
    refused = g.get("refused_result")
    if refused and refused[0] == stage:
        return refused[1], refused[2]
    return {}, {}


def _data(stage: str) -> dict:
    form = request.form
    data: dict = {name: form.get(name, "").strip() for name in ("outcome", "decided_on", "persons", "summary")}
    data["document_number"] = form.get("document_number", "").strip() or None
    if stage == "judgment":
        data["compensation"] = form.get("compensation", "").strip() or None
    if stage == "investigation":
        data["measures"] = [
            {"kind": form.get(f"measure_kind_{i}", ""), "ordered_on": form.get(f"measure_date_{i}", "").strip(),
             "persons": form.get(f"measure_persons_{i}", "").strip()}
            for i in range(MEASURE_ROWS) if form.get(f"measure_kind_{i}")]
    return data


@bp.route("/<int:case_id>/results/<stage>", methods=["POST"])
@login_required
def record(case_id: int, stage: str):
    data = _data(stage)
    try:
        engine.record_result(db.session, actor(), case_id, stage, data)
    except engine.InvalidInput as exc:
        errors = {name: [explain(m) for m in reasons] for name, reasons in exc.errors.items()}
        g.refused_result = (stage, request.form.to_dict(), errors)
        return render_case(engine.visible_case(db.session, actor(), case_id), status=422)
    return redirect(url_for("cases.show", case_id=case_id, _anchor="results"), code=303)


@bp.route("/<int:case_id>/close", methods=["POST"])
@login_required
def close(case_id: int):
    try:
        engine.close_case(db.session, actor(), case_id, request.form.get("reason", ""))
    except engine.CaseStillRunning as exc:
        names = "、".join(f"{workflow_text.process_name(key)} #{instance_id}" for key, instance_id in exc.running)
        return render_template(
            "errors/error.html", status=409, title=_("The case cannot be closed yet"),
            message=_("Mechanisms still run on this case: %(names)s. Close it once each has ended.", names=names),
        ), 409
    except engine.InvalidInput:
        return render_template("errors/error.html", status=422, title=_("Invalid input"),
                               message=_("Give the reason for closing the case.")), 422
    return redirect(url_for("cases.show", case_id=case_id, _anchor="results"), code=303)
