"""Clues (线索): the list with its filters, registering one with its files, a clue's page with its
attachments and, for the triage agency, the triage form that opens a case (choosing the
mechanisms to start) or closes the clue with reasons.

Who sees what is the engine's (policy): a service station's staff and each agency their own
clues, the triage agency every clue. The triage agency is the `CLUE_TRIAGE_AGENCY` setting
(docs/operations.md), passed to every engine call.
"""
from __future__ import annotations

import re

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

import engine
from models import CLUE_SOURCES, CLUE_STATUSES, CONFIDENTIALITY_LEVELS

from . import forms, workflow_text
from .auth import actor, landing
from .db import db
from .evidence import attachment, store

bp = Blueprint("clues", __name__, url_prefix="/clues")
FIELDS = ("source", "rights_holder", "suspect", "summary", "loss_amount", "illegal_gain")

SOURCE_LABELS = {
    "complaint": _l("Rights holder's complaint"), "report": _l("Report"), "referral": _l("Referral from another body"),
    "inspection": _l("Found in inspection"), "other": _l("Other"),
}
STATUS_LABELS = {"pending": _l("Awaiting triage"), "opened": _l("Opened as a case"), "closed": _l("Closed")}
DECISION_LABELS = {"open": _l("Open a case"), "close": _l("Close the clue")}


def triage_agency() -> str:
    return current_app.config.get("CLUE_TRIAGE_AGENCY", "samr")


def clue_menu() -> bool:
    """Whether the header links to the clues: who registers, triages or oversees them."""
    if not current_user.is_authenticated:
        return False
    user = current_user.model
    return (engine.policy.can_register_clue(user) or engine.policy.can_triage_clues(user, triage_agency())
            or engine.policy.is_overseer(user))


def station_staff() -> bool:
    """A service station's staff: the header shows them their clues only."""
    return current_user.is_authenticated and engine.policy.is_station_staff(current_user.model)


def home() -> str:
    """The header's home link: the user's landing page (web/auth.py `landing`)."""
    return landing(current_user.model) if current_user.is_authenticated else url_for("inbox.index")


def case_clue(case):
    """The clue a case was opened from, for the case page (None if none or not visible)."""
    return engine.clue_of_case(db.session, actor(), case.id, triage_agency())


def init_app(app: Flask) -> None:
    app.config.setdefault("CLUE_TRIAGE_AGENCY", "samr")
    app.register_blueprint(bp)
    app.add_template_filter(workflow_text.process_name, "process_name")
    app.jinja_env.globals.update(
        CLUE_SOURCE_LABELS=SOURCE_LABELS, CLUE_STATUS_LABELS=STATUS_LABELS, clue_menu=clue_menu,
        station_staff=station_staff, case_clue=case_clue, home=home)


def explain(message: str) -> str:
    """The engine's English reasons as sentences for the forms."""
    known = (
        (r"whole number of yuan", _("Enter a whole number of yuan, or leave it empty when not known.")),
        (r"must not be negative", _("The amount must not be negative.")),
        (r"^must be at most \d+$", _("The amount is too large.")),
        (r"say why the clue is closed", _("Say why the clue is closed.")),
        (r"is not a mechanism you may start", _("Choose among the mechanisms offered.")),
        (r"^at most \d+ files|has at most \d+ files", _("Too many files.")),
        (r"is empty", _("The file is empty.")),
        (r"not one$", _("The file starts like a ZIP archive but is damaged.")),
    )
    for pattern, text in known:
        if re.search(pattern, message):
            return str(text)
    return forms.explain(message)


def _errors(exc: engine.InvalidInput) -> dict[str, list[str]]:
    return {key: [explain(m) for m in messages] for key, messages in exc.errors.items()}


def _files():
    # A browser sends one empty part with no name when no file was chosen.
    return [(f.stream, f.filename or "") for f in request.files.getlist("files") if f.filename or f.content_length]


@bp.route("/")
@login_required
def index():
    args = {key: request.args.get(key, "") for key in ("status", "source")}
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    page = engine.clue_page(db.session, actor(), triage_agency(), args["status"] or None, args["source"] or None,
                            page_number, 20)
    return render_template("clues/index.html", page=page, args=args, statuses=CLUE_STATUSES, sources=CLUE_SOURCES,
                           may_register=engine.policy.can_register_clue(actor()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Registering a clue: SAMR, police and procuratorate handlers and service station staff
    (the engine answers 403 to others)."""
    values = dict.fromkeys(FIELDS, "")
    values["source"] = "complaint"
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in FIELDS}
        try:
            clue = engine.register_clue(db.session, store(), actor(), values, _files())
        except engine.InvalidInput as exc:
            errors = _errors(exc)
        else:
            flash(_("Clue %(number)s was registered.", number=clue.number), "info")
            return redirect(url_for("clues.show", clue_id=clue.id), code=303)
    elif not engine.policy.can_register_clue(actor()):
        raise engine.Forbidden("you may not register clues")
    return render_template("clues/new.html", values=values, errors=errors, sources=CLUE_SOURCES), \
        422 if errors else 200


def render_clue(clue_id: int, triage_values=None, triage_errors=None, status: int = 200):
    session, user, agency = db.session, actor(), triage_agency()
    clue = engine.visible_clue(session, user, clue_id, agency)
    may_triage = engine.policy.can_triage_clue(user, clue.clue, agency)
    values = triage_values or {"decision": "", "title": _default_title(clue), "confidentiality": "confidential",
                               "reason": "", "mechanisms": []}
    return render_template(
        "clues/show.html", clue=clue, may_triage=may_triage,
        evidence=engine.evidence_of_clue(session, user, clue_id, agency) if clue.case_id is not None else {},
        may_attach=engine.policy.can_add_clue_attachment(user, clue.clue, agency),
        case_visible=clue.case_id is not None and engine.policy.can_view_case(session, user, clue.case),
        mechanisms=engine.opening_mechanisms(session, user) if may_triage else [],
        levels=CONFIDENTIALITY_LEVELS, decisions=DECISION_LABELS, triage=values, triage_errors=triage_errors or {},
    ), status


def _default_title(clue) -> str:
    if not clue.content:
        return ""
    parts = [part for part in (clue.rights_holder, clue.suspect) if part]
    return "：".join(parts)[:300] if parts else (clue.summary or "")[:60]


@bp.route("/<int:clue_id>")
@login_required
def show(clue_id: int):
    return render_clue(clue_id)


@bp.route("/<int:clue_id>/attachments", methods=["POST"])
@login_required
def add_attachment(clue_id: int):
    files = _files()
    if not files:
        flash(_("Choose a file to add."), "error")
        return render_clue(clue_id, status=422)
    try:
        for stream, name in files:
            engine.add_clue_attachment(db.session, store(), actor(), clue_id, triage_agency(), stream, name)
    except engine.InvalidInput as exc:
        for messages in _errors(exc).values():
            for message in messages:
                flash(message, "error")
        return render_clue(clue_id, status=422)
    flash(_("The file was added."), "info")
    return redirect(url_for("clues.show", clue_id=clue_id), code=303)


@bp.route("/<int:clue_id>/attachments/<int:attachment_id>")
@login_required
def download(clue_id: int, attachment_id: int):
    return attachment(engine.open_clue_attachment(db.session, store(), actor(), clue_id, attachment_id,
                                                  triage_agency()))


@bp.route("/<int:clue_id>/triage", methods=["POST"])
@login_required
def triage(clue_id: int):
    """Open a case from the clue (to its page) or close the clue; a refused decision shows the
    clue again with the form's errors (422)."""
    values = {key: request.form.get(key, "") for key in ("decision", "title", "confidentiality", "reason")}
    values["mechanisms"] = request.form.getlist("mechanisms")
    try:
        result = engine.triage_clue(
            db.session, actor(), clue_id, triage_agency(), values["decision"], reason=values["reason"],
            title=values["title"], confidentiality=values["confidentiality"] or "confidential",
            mechanisms=values["mechanisms"], store=store())
    except engine.InvalidInput as exc:
        return render_clue(clue_id, values, _errors(exc), 422)
    if result.opened is not None:
        flash(_("Case %(number)s was opened from clue %(clue)s.", number=result.opened.case.number,
                clue=result.clue.number), "info")
        if result.evidence:
            flash(_("The clue's attachments became evidence of the case (%(count)s items).",
                    count=len(result.evidence)), "info")
        return redirect(url_for("cases.show", case_id=result.opened.case.id), code=303)
    flash(_("Clue %(number)s was closed.", number=result.clue.number), "info")
    return redirect(url_for("clues.show", clue_id=clue_id), code=303)
