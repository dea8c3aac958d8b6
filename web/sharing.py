"""Information shared with me (DOMAIN §4): grants naming the user, readable until they expire.

The engine decides who may read a grant and until when (NotFound for users it does not name,
Forbidden once it has expired) and records every opening of the grant, of its evidence files and
of its documents as `shared_information_viewed`.
"""
from __future__ import annotations

from flask import Blueprint, render_template, send_file
from flask_babel import gettext as _
from flask_login import login_required

import engine

from . import evidence
from .auth import actor
from .db import db
from .documents import render_document

bp = Blueprint("sharing", __name__, url_prefix="/shared")


@bp.route("/")
@login_required
def index():
    return render_template("sharing/index.html", grants=engine.shared_with_me(db.session, actor()))


def _expired():
    return render_template(
        "errors/error.html", status=403, title=_("No longer shared"),
        message=_("This information was shared until a date that has passed; it is no longer visible."),
    ), 403


@bp.route("/<int:grant_id>")
@login_required
def show(grant_id: int):
    try:
        grant, items, documents = engine.open_grant(db.session, actor(), grant_id)
    except engine.Forbidden:
        return _expired()
    return render_template("sharing/show.html", grant=grant, request=grant.request, items=items,
                           documents=documents)


@bp.route("/<int:grant_id>/evidence/<int:evidence_id>")
@login_required
def evidence_file(grant_id: int, evidence_id: int):
    """A shared evidence file, re-hashed on this read; sent like any evidence download."""
    try:
        opened = engine.open_shared_evidence(db.session, evidence.store(), actor(), grant_id, evidence_id)
    except engine.Forbidden:
        return _expired()
    response = send_file(opened.stream, mimetype=opened.content_type, as_attachment=True,
                         download_name=opened.name, max_age=0, etag=False, conditional=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/<int:grant_id>/documents/<int:document_id>")
@login_required
def document(grant_id: int, document_id: int):
    try:
        return render_document(engine.open_shared_document(db.session, actor(), grant_id, document_id))
    except engine.Forbidden:
        return _expired()
