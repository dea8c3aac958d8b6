"""Legal documents of a case: the list, one document's fixed content, and its printable page.

The same engine functions and policy as web/documents.py: a user sees a document only when the
policy lets them read it (issuer, recipient, copied agency), and every opening of one is recorded
as `document_viewed`. Listing shows numbers and titles only, so it is not recorded.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

import engine
from engine import DOCUMENT_KINDS as KINDS
from engine import case_documents, open_document
from web.db import db
from web.documents import render_document

from .auth import api_user, guard
from .problems import documented
from .schemas import ID, Dotted

bp = Blueprint("api_documents", __name__, url_prefix="/api/v1", description="Documents")
guard(bp)
ITEM = f"/documents/<{ID}:document_id>"


class Document(ma.Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    task_id = fields.Integer(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={"description": "document kind, e.g. transfer_letter"})
    title = fields.Function(lambda d: KINDS[d.kind].title, required=True, metadata={"type": "string"})
    number = fields.String(required=True, metadata={"description": "e.g. 东市监移〔2026〕3号"})
    issuing_agency = Dotted("issuing_agency.code")
    recipient_agency = Dotted("recipient_agency.code", allow_none=True)
    generated_at = fields.DateTime(required=True)
    generated_by = Dotted("generated_by.username", allow_none=True)
    print_url = fields.Function(lambda d: f"/api/v1/documents/{d.id}/print", required=True,
                                metadata={"type": "string", "description": "the printable HTML page"})


class DocumentDetail(Document):
    content = fields.Dict(required=True, metadata={"description": "what the printed page shows, fixed at generation"})


@bp.route(f"/cases/<{ID}:case_id>/documents", methods=["GET"])
@bp.response(200, Document(many=True))
@documented(bp, 404)
def list_documents(case_id: int):
    """The case's documents this user may read, oldest first (numbers and titles; not audited)."""
    session = db.session
    case = engine.visible_case(session, api_user(), case_id)
    return case_documents(session, api_user(), case.id)


@bp.route(ITEM, methods=["GET"])
@bp.response(200, DocumentDetail)
@documented(bp, 404)
def show(document_id: int):
    """One document with its content; recorded as `document_viewed`."""
    return open_document(db.session, api_user(), document_id)


@bp.route(f"{ITEM}/print", methods=["GET"])
@bp.alt_response(200, success=True, description="The printable page (HTML with a print stylesheet)",
                 schema={"type": "string"}, content_type="text/html")
@documented(bp, 404)
def print_page(document_id: int):
    """The document as the printable page the case page links to; recorded as `document_viewed`."""
    return render_document(open_document(db.session, api_user(), document_id))
