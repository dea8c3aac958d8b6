"""Evidence of a case: list, upload (multipart), an item with its chain of custody, download of
its file (re-hashed on every read), hand-over to another agency and signing for it.

The same engine functions and policy as web/evidence.py: every view and download is audited,
confidential files open only for the people the policy names, a file that no longer matches its
SHA-256 is never served (409 with the reason, `evidence_integrity_failed` recorded).
"""
from __future__ import annotations

from typing import ClassVar

import marshmallow as ma
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

import engine
from models import EVIDENCE_KINDS
from web.db import db
from web.evidence import attachment, store

from .auth import api_user, guard
from .problems import documented
from .schemas import ID, Dotted, Pattern, Strict, Text, rule


class MultipartParser(FlaskParser):
    """Reads the form fields and the file of a multipart upload as one set of arguments, so the
    upload is one documented request body; a field the body does not declare is refused (422),
    as in JSON bodies, instead of being dropped unseen."""

    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "files": None}

    def load_files(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class EvidenceBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


bp = EvidenceBlueprint("api_evidence", __name__, url_prefix="/api/v1", description="Evidence")
guard(bp)
ITEM = f"/evidence/<{ID}:evidence_id>"


class EvidenceUpload(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(EVIDENCE_KINDS))
    description = Text(required=True, blank=False, validate=validate.Length(1, 2000))
    source = Text(required=True, blank=False, validate=validate.Length(1, 300))
    collected_at = Text(required=True, metadata={
        "format": "date-time", **rule("not in the future", "ISO 8601 with offset")})
    collector_1 = Text(required=True, blank=False, validate=validate.Length(1, 120))
    collector_2 = Text(required=True, blank=False, validate=validate.Length(1, 120),
                       metadata=rule("differs from collector_1", "a second collector"))
    declared_sha256 = Pattern("[0-9a-fA-F]{64}", metadata=rule(
        "when given, matches the SHA-256 the server computes of the file",
        "the provider's SHA-256, optional"))
    confidential = fields.Boolean(load_default=True, metadata={"description": "involves the trade secret"})
    file = Upload(metadata=rule("not empty; a file that starts like a ZIP archive is one",
                                "any file; its type is recorded from its content, and it is "
                                "downloaded as application/octet-stream"))


class HandOver(Strict):
    to_agency = Text(required=True, validate=validate.Length(1, 32), metadata=rule(
        "an agency taking part in the case that does not hold the item yet", "agency code"))
    note = Text(load_default="", validate=validate.Length(0, 500))


# Free text and names of an item are for those who may read the case's content.
NEED_TO_KNOW = ("null unless you may read the case's content (a party agency's member; on a "
                "secret case, a user assigned to it): supervisors see kinds, hashes and custody only")


class Custody(ma.Schema):
    id = fields.Integer(required=True)
    evidence_id = fields.Integer(required=True)
    from_agency = Dotted("from_agency.code")
    to_agency = Dotted("to_agency.code")
    state = fields.String(required=True, metadata={"description": "pending | received"})
    released_by = Dotted("released_by.username")
    released_at = fields.DateTime(required=True)
    received_by = Dotted("received_by.username", allow_none=True)
    received_at = fields.DateTime(required=True, allow_none=True)
    sha256 = fields.String(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True, metadata={"description": NEED_TO_KNOW})


class EvidenceItem(ma.Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    owner_agency = Dotted("owner_agency.code")
    kind = fields.String(required=True)
    description = fields.String(required=True, allow_none=True, metadata={"description": NEED_TO_KNOW})
    source = fields.String(required=True, allow_none=True, metadata={"description": NEED_TO_KNOW})
    collected_at = fields.DateTime(required=True)
    collector_1 = fields.String(required=True, allow_none=True, metadata={"description": NEED_TO_KNOW})
    collector_2 = fields.String(required=True, allow_none=True, metadata={"description": NEED_TO_KNOW})
    declared_sha256 = fields.String(required=True, allow_none=True)
    confidential = fields.Boolean(required=True)
    has_file = fields.Boolean(required=True)
    original_name = fields.String(required=True, allow_none=True, metadata={"description": NEED_TO_KNOW})
    content_type = fields.String(required=True, allow_none=True, metadata={
        "description": "recognised from the content (application/octet-stream when not); not used to serve it"})
    size = fields.Integer(required=True, allow_none=True)
    sha256 = fields.String(required=True, allow_none=True)
    corrupted = fields.Boolean(required=True, metadata={
        "description": "the stored file no longer matches sha256 (or is gone): it is not served"})
    corrupted_at = fields.DateTime(required=True, allow_none=True,
                                   metadata={"description": "when a read first found it so"})
    uploaded_by = Dotted("uploaded_by.username")
    uploaded_at = fields.DateTime(required=True)
    custody = fields.List(fields.Nested(Custody), required=True)


@bp.route(f"/cases/<{ID}:case_id>/evidence", methods=["GET"])
@bp.response(200, EvidenceItem(many=True))
@documented(bp, 404)
def list_items(case_id: int):
    """The case's evidence items with their custody (metadata; files are downloaded one by one)."""
    return engine.list_evidence(db.session, api_user(), case_id)


@bp.route(f"/cases/<{ID}:case_id>/evidence", methods=["POST"])
@bp.arguments(EvidenceUpload(), location="files")
@bp.response(201, EvidenceItem)
@documented(bp, 403, 404, 413)
def upload(args, case_id: int):
    """Add an evidence item, with its file when there is one (handlers of a party agency)."""
    sent = args.pop("file", None)
    has_file = sent is not None and bool(sent.filename or sent.content_length)
    return engine.add_evidence(db.session, store(), api_user(), case_id, args,
                               sent.stream if has_file else None, sent.filename if has_file else None)


@bp.route(ITEM, methods=["GET"])
@bp.response(200, EvidenceItem)
@documented(bp, 404)
def show(evidence_id: int):
    """An item and its chain of custody; recorded as `evidence_viewed`."""
    return engine.view_evidence(db.session, api_user(), evidence_id)


@bp.route(f"{ITEM}/file", methods=["GET"])
@bp.alt_response(200, success=True, description="The file, verified against its SHA-256",
                 schema={"type": "string", "format": "binary"}, content_type="*/*")
@documented(bp, 403, 404, 409)
def download(evidence_id: int):
    """The item's file (confidential ones only for the people the policy names); audited. 409 when
    the stored file no longer matches its SHA-256 (the item is marked damaged)."""
    return attachment(engine.open_evidence(db.session, store(), api_user(), evidence_id))


@bp.route(f"{ITEM}/hand-over", methods=["POST"])
@bp.arguments(HandOver())
@bp.response(201, Custody)
@documented(bp, 403, 404, 409)
def hand_over(args, evidence_id: int):
    """A liaison of a holding agency releases the item to another party agency."""
    return engine.hand_over_evidence(db.session, store(), api_user(), evidence_id,
                                     args["to_agency"], args["note"])


@bp.route(f"/evidence/custody/<{ID}:custody_id>/receive", methods=["POST"])
@bp.response(200, Custody)
@documented(bp, 403, 404, 409)
def receive(custody_id: int):
    """The receiving agency's liaison signs for a pending handoff."""
    return engine.receive_evidence(db.session, store(), api_user(), custody_id)
