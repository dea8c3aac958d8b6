"""Evidence of a case: upload, an item's page, download, and handing items between agencies.

Downloads are opaque attachments (application/octet-stream, whatever type was recorded) under
the neutralised name, with nosniff and a sandboxing CSP, and
are never cached: the file is re-hashed by the engine on every read and a mismatch is shown as
an error page (500), not served. Every view and download is an audit event (engine).
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine
from models import EVIDENCE_KINDS

from . import forms
from .auth import actor
from .db import db

bp = Blueprint("evidence", __name__, url_prefix="/cases/<int:case_id>/evidence")
EXTENSION = "liandong_evidence_store"
# Room for the form's other fields on top of the largest file.
FORM_OVERHEAD = 64 * 1024
FIELDS = ("kind", "description", "source", "collected_at", "collector_1", "collector_2", "declared_sha256")


def store() -> engine.EvidenceStore:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = engine.EvidenceStore(app.config["EVIDENCE_DIR"], app.config["EVIDENCE_MAX_BYTES"])
    # Werkzeug answers 413 before anything is read when a request is larger than this.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["EVIDENCE_MAX_BYTES"] + FORM_OVERHEAD
    app.jinja_env.globals.update(EVIDENCE_KINDS=EVIDENCE_KINDS)


def explain(message: str) -> str:
    """The engine's English reasons as sentences for the form."""
    known = (
        (r"^two different collectors", lambda m: _("Two different collectors are required.")),
        (r"date and time", lambda m: _("Enter a valid date and time.")),
        (r"in the future", lambda m: _("The time must not be in the future.")),
        (r"64 hexadecimal", lambda m: _("A SHA-256 value is 64 hexadecimal digits.")),
        (r"does not match the file's SHA-256 \((\w+)\)",
         lambda m: _("The declared SHA-256 does not match the file (computed %(sha)s).", sha=m.group(1))),
        (r"is empty", lambda m: _("The file is empty.")),
        (r"not one$", lambda m: _("The file starts like a ZIP archive but is damaged.")),
        (r"taking part in the case", lambda m: _("Choose an agency taking part in the case.")),
        (r"already holds", lambda m: _("That agency already holds this item.")),
    )
    for pattern, text in known:
        match = re.search(pattern, message)
        if match:
            return text(match)
    return forms.explain(message)


def _collected_at(value: str) -> str:
    """A datetime-local value is Beijing wall-clock time; anything unparsable goes to the
    engine as it is, which names it as the field's error."""
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    return local.isoformat()


@bp.route("", methods=["POST"])
@login_required
def upload(case_id: int):
    values = {name: request.form.get(name, "") for name in FIELDS}
    values["confidential"] = "true" if request.form.get("confidential") else "false"
    sent = request.files.get("file")
    # A browser sends an empty part with no name when no file was chosen.
    has_file = sent is not None and bool(sent.filename or sent.content_length)
    fields = {**values, "collected_at": _collected_at(values["collected_at"])}
    try:
        engine.add_evidence(db.session, store(), actor(), case_id, fields,
                            sent.stream if has_file else None, sent.filename if has_file else None)
    except engine.InvalidInput as exc:
        from .cases import render_case

        errors = {k: [explain(m) for m in v] for k, v in exc.errors.items()}
        case = engine.visible_case(db.session, actor(), case_id)
        return render_case(case, evidence_values=values, evidence_errors=errors, status=422)
    flash(_("The evidence item was added."), "info")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="evidence"), code=303)


def _item(case_id: int, evidence_id: int):
    item = engine.visible_evidence(db.session, actor(), evidence_id)
    if item.case_id != case_id:
        raise engine.NotFound(f"evidence {evidence_id} is not of case {case_id}")
    return item


@bp.route("/<int:evidence_id>")
@login_required
def show(case_id: int, evidence_id: int):
    _item(case_id, evidence_id)
    item = engine.view_evidence(db.session, actor(), evidence_id)
    participants = [p.agency for p in item.case.participants]
    return render_template("evidence/show.html", item=item, case=item.case, participants=participants)


@bp.route("/<int:evidence_id>/download")
@login_required
def download(case_id: int, evidence_id: int):
    _item(case_id, evidence_id)
    return attachment(engine.open_evidence(db.session, store(), actor(), evidence_id))


def attachment(opened: engine.OpenedEvidence):
    """An evidence file as a download, the same from the page and the API: an attachment under
    its neutralised name, never cached, never sniffed, and sandboxed should a browser render it
    after all (no scripts, no origin, no plugins). Any file is accepted, so the recorded type
    only describes it: the download is always an opaque byte stream."""
    response = send_file(opened.stream, mimetype="application/octet-stream", as_attachment=True,
                         download_name=opened.name, max_age=0, etag=False, conditional=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/<int:evidence_id>/hand-over", methods=["POST"])
@login_required
def hand_over(case_id: int, evidence_id: int):
    _item(case_id, evidence_id)
    try:
        engine.hand_over_evidence(db.session, store(), actor(), evidence_id,
                                  request.form.get("to_agency", ""), request.form.get("note", ""))
    except engine.InvalidInput as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(explain(message), "error")
    except engine.Conflict:
        flash(_("A handoff of this item to that agency is already waiting to be signed for."), "error")
    else:
        flash(_("The item was released; the receiving liaison signs for it next."), "info")
    return redirect(url_for("evidence.show", case_id=case_id, evidence_id=evidence_id), code=303)


@bp.route("/custody/<int:custody_id>/receive", methods=["POST"])
@login_required
def receive(case_id: int, custody_id: int):
    try:
        custody = engine.receive_evidence(db.session, store(), actor(), custody_id, case_id)
    except engine.Conflict:
        flash(_("This handoff was already signed for."), "error")
        return redirect(url_for("cases.show", case_id=case_id, _anchor="evidence"), code=303)
    flash(_("You signed for the item."), "info")
    return redirect(url_for("evidence.show", case_id=case_id, evidence_id=custody.evidence_id), code=303)
