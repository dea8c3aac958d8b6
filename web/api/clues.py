"""Clues (线索): the list with its filters, registering one (multipart, with files), a clue, its
attachments (added and downloaded, re-hashed on every read) and its triage into a case or its
closing. The same engine functions and policy as web/clues.py: a service station's staff and
each agency see their own clues, the triage agency (setting CLUE_TRIAGE_AGENCY) every clue.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

import engine
from models import CLUE_SOURCES, CLUE_STATUSES, CONFIDENTIALITY_LEVELS
from web.clues import triage_agency
from web.db import db
from web.evidence import attachment, store

from .auth import api_user, guard
from .cases import CaseView
from .evidence import EvidenceBlueprint
from .problems import documented
from .schemas import ID, CaseDetail, Dotted, PageArgs, Pattern, Strict, TaskPage, Text, rule

bp = EvidenceBlueprint("api_clues", __name__, url_prefix="/api/v1/clues", description="Clues before a case")
guard(bp)
CLUE = f"/<{ID}:clue_id>"
AMOUNT = {"description": "whole yuan; omit or null when not known (an unknown amount is not 0)"}
UPLOADED_AMOUNT = {"description": "whole yuan; omit when not known (an unknown amount is not 0)"}
CONTENT = "null unless you may read the clue's content (its agency, the triage agency)"


class ClueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(CLUE_STATUSES))
    source = fields.String(validate=validate.OneOf(CLUE_SOURCES))


class ClueCreate(Strict):
    source = fields.String(required=True, validate=validate.OneOf(CLUE_SOURCES),
                           metadata={"description": "how the clue came in"})
    rights_holder = Text(load_default="", validate=validate.Length(0, 300), metadata={"description": "free text"})
    suspect = Text(load_default="", validate=validate.Length(0, 300))
    summary = Text(required=True, blank=False, validate=validate.Length(1, 4000))
    # A multipart form has no null: an amount not known is left out.
    loss_amount = fields.Integer(validate=validate.Range(0, 10**13), metadata=UPLOADED_AMOUNT)
    illegal_gain = fields.Integer(validate=validate.Range(0, 10**13), metadata=UPLOADED_AMOUNT)
    files = fields.List(Upload(), load_default=list, validate=validate.Length(0, 10), metadata=rule(
        "each file not empty", "up to 10 files of any type; the server records each SHA-256"))


class AttachmentUpload(Strict):
    file = Upload(required=True, metadata=rule("not empty"))


class Triage(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(("open", "close")),
                             metadata={"description": "open: a case from the clue; close: no case"})
    reason = Text(load_default="", validate=validate.Length(0, 2000),
                  metadata=rule("required (not blank) to close", "a note when opening"))
    title = Text(load_default="", validate=validate.Length(0, 300),
                 metadata=rule("required (not blank) to open", "the case's"))
    confidentiality = fields.String(load_default="confidential", validate=validate.OneOf(CONFIDENTIALITY_LEVELS))
    mechanisms = fields.List(Pattern("[a-z][a-z0-9_]{0,99}"), load_default=list, validate=validate.Length(0, 20),
                             metadata=rule("each one a mechanism you may start on a new case",
                                           "process model keys to start on the new case (none by default)"))


class Attachment(ma.Schema):
    id = fields.Integer(required=True)
    original_name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = Dotted("uploaded_by.username")
    uploaded_at = fields.DateTime(required=True)


class Clue(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    agency = Dotted("agency.code")
    source = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending | opened | closed"})
    rights_holder = fields.String(required=True, allow_none=True, metadata={"description": CONTENT})
    suspect = fields.String(required=True, allow_none=True, metadata={"description": CONTENT})
    summary = fields.String(required=True, allow_none=True, metadata={"description": CONTENT})
    loss_amount = fields.Integer(required=True, allow_none=True, metadata={"description": f"{AMOUNT['description']}; "
                                                                           f"{CONTENT}"})
    illegal_gain = fields.Integer(required=True, allow_none=True, metadata={"description": CONTENT})
    registered_by = Dotted("registered_by.username")
    registered_at = fields.DateTime(required=True)
    triaged_by = Dotted("triaged_by.username", allow_none=True)
    triaged_at = fields.DateTime(required=True, allow_none=True)
    triage_reason = fields.String(required=True, allow_none=True, metadata={"description": CONTENT})
    case_id = fields.Integer(required=True, allow_none=True)
    attachments = fields.List(fields.Nested(Attachment), required=True, metadata={"description": "empty unless "
                                                                                   "you may read the content"})


class CluePage(TaskPage):
    items = fields.List(fields.Nested(Clue), required=True)


class TriageOutcome(ma.Schema):
    clue = fields.Nested(Clue, required=True)
    case = fields.Nested(CaseDetail, required=True, allow_none=True,
                         metadata={"description": "the case opened, with its instances and first tasks; "
                                                  "null when the clue was closed"})


@bp.route("", methods=["GET"])
@bp.arguments(ClueArgs(), location="query")
@bp.response(200, CluePage)
@documented(bp, 422)
def list_clues(args):
    """The clues you see, newest first: your agency's (a service station's staff: their own), the
    triage agency every clue, supervisors every clue's status without its content."""
    return engine.clue_page(db.session, api_user(), triage_agency(), args.get("status"), args.get("source"),
                            args["page"], args["per_page"])


@bp.route("", methods=["POST"])
@bp.arguments(ClueCreate(), location="files")
@bp.response(201, Clue)
@documented(bp, 403, 413, 422)
def register(args):
    """Register a clue with its files (handlers of SAMR, police and procuratorate; service station staff)."""
    sent = [f for f in args.pop("files") if f.filename or f.content_length]
    user = api_user()
    clue = engine.register_clue(db.session, store(), user, args, [(f.stream, f.filename or "") for f in sent])
    return engine.visible_clue(db.session, user, clue.id, triage_agency())


@bp.route(CLUE, methods=["GET"])
@bp.response(200, Clue)
@documented(bp, 404)
def show(clue_id: int):
    """A clue with its status and, for who may read it, its content and attachments."""
    return engine.visible_clue(db.session, api_user(), clue_id, triage_agency())


@bp.route(f"{CLUE}/attachments", methods=["POST"])
@bp.arguments(AttachmentUpload(), location="files")
@bp.response(201, Attachment)
@documented(bp, 403, 404, 409, 413, 422)
def add_attachment(args, clue_id: int):
    """Add a file to a clue waiting for triage (its agency's registrars, the triage agency)."""
    sent = args["file"]
    return engine.add_clue_attachment(db.session, store(), api_user(), clue_id, triage_agency(), sent.stream,
                                      sent.filename or "")


@bp.route(f"{CLUE}/attachments/<{ID}:attachment_id>/file", methods=["GET"])
@bp.alt_response(200, success=True, description="The file, verified against its SHA-256",
                 schema={"type": "string", "format": "binary"}, content_type="*/*")
@documented(bp, 404, 409)
def download(clue_id: int, attachment_id: int):
    """An attachment's file, re-hashed on this read (409 if it no longer matches); audited."""
    return attachment(engine.open_clue_attachment(db.session, store(), api_user(), clue_id, attachment_id,
                                                  triage_agency()))


@bp.route(f"{CLUE}/triage", methods=["POST"])
@bp.arguments(Triage())
@bp.response(200, TriageOutcome)
@documented(bp, 403, 404, 409, 422)
def triage(args, clue_id: int):
    """The triage agency opens a case from the clue, starting the mechanisms listed (none unless
    listed), or closes it with reasons."""
    user = api_user()
    result = engine.triage_clue(db.session, user, clue_id, triage_agency(), args["decision"], reason=args["reason"],
                                title=args["title"], confidentiality=args["confidentiality"],
                                mechanisms=args["mechanisms"])
    return {"clue": engine.visible_clue(db.session, user, clue_id, triage_agency()),
            "case": CaseView(*result.opened) if result.opened else None}
