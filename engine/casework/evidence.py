"""Evidence items of a case: adding them, listing, viewing and opening their files.

Each service call is one transaction with its audit event (`evidence_added`,
`evidence_viewed`, `evidence_downloaded`, `evidence_integrity_failed`); the file of an item
that fails to be recorded is removed again. An item whose file is first found damaged is marked
so and the supervisors are notified.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.access import audit, policy
from engine.casework.evidence_files import EvidenceStore, FileTooLarge, StoredFile, UnsupportedFile
from engine.errors import EvidenceCorrupted, Forbidden, InvalidInput, NotFound, TooLarge
from engine.runtime.transactions import transaction, transactional
from engine.time.clock import now
from models import EVIDENCE_KINDS, Case, EvidenceCustody, EvidenceItem, User

SHA256 = re.compile(r"[0-9a-f]{64}")
LIMITS = {"description": 2000, "source": 300, "collector_1": 120, "collector_2": 120}
# What only those who may read the case's content (policy.can_view_case_content) see of an item:
# its free text and names. Whoever sees the case sees the rest: kind, owner, times, size, type,
# hashes, and the custody events (without their notes).
DETAILS = ("description", "source", "collector_1", "collector_2", "original_name")


class EvidenceView:
    """An item as one user may see it: the DETAILS are None, and its custody notes too, unless
    `details` (the user may read the case's content; on a secret case, only users assigned to
    it; never an overseer as such). Everything else reads through to the item."""

    def __init__(self, item: EvidenceItem, details: bool) -> None:
        self.item, self.details = item, details

    def __getattr__(self, name: str) -> Any:
        if not self.details and name in DETAILS:
            return None
        if name == "custody" and not self.details:
            return [CustodyView(custody) for custody in self.item.custody]
        return getattr(self.item, name)


class CustodyView:
    """A handoff without its note (free text), for those who may not read the case's content."""

    note = None

    def __init__(self, custody: EvidenceCustody) -> None:
        self.custody = custody

    def __getattr__(self, name: str) -> Any:
        return getattr(self.custody, name)


def as_seen_by(session: Session, actor: User, item: EvidenceItem) -> EvidenceView:
    """The item as `actor` may see it (EvidenceView)."""
    return EvidenceView(item, policy.can_view_case_content(session, actor, item.case))


@dataclass
class OpenedEvidence:
    """A verified copy of an item's file, to be streamed and then closed."""

    item: EvidenceItem
    stream: BinaryIO
    name: str
    content_type: str
    size: int


def _case_for(session: Session, actor: User, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, actor, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def visible_evidence(session: Session, actor: User, evidence_id: int) -> EvidenceItem:
    """The item if the actor may see its metadata, else NotFound (ids reveal nothing)."""
    item = session.get(EvidenceItem, evidence_id)
    if item is None or not policy.can_view_evidence(session, actor, item):
        raise NotFound(f"evidence {evidence_id} does not exist")
    return item


def list_evidence(session: Session, actor: User, case_id: int) -> Sequence[EvidenceView]:
    """Every item of a case the actor may see, as they may see it (EvidenceView: descriptions,
    sources and names only for those who may read the case's content; `policy.can_open_evidence`
    says which files they may open), oldest first."""
    case = _case_for(session, actor, case_id)
    details = policy.can_view_case_content(session, actor, case)
    return [EvidenceView(item, details) for item in session.scalars(
        select(EvidenceItem).where(EvidenceItem.case_id == case.id)
        .options(selectinload(EvidenceItem.uploaded_by),
                 selectinload(EvidenceItem.custody).selectinload(EvidenceCustody.released_by),
                 selectinload(EvidenceItem.custody).selectinload(EvidenceCustody.received_by))
        .order_by(EvidenceItem.id)
    )]


def damaged_evidence_ids(session: Session, actor: User, case_id: int) -> set[int]:
    """The ids of the case's items whose file was found damaged (`corrupted_at`): metadata, for
    whoever sees the case, so every page naming an item can mark it. NotFound like the case."""
    case = _case_for(session, actor, case_id)
    return set(session.scalars(select(EvidenceItem.id).where(
        EvidenceItem.case_id == case.id, EvidenceItem.corrupted_at.is_not(None))))


def validate(fields: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The item's metadata cleaned, or InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    kind = fields.get("kind")
    if kind not in EVIDENCE_KINDS:
        errors["kind"] = [f"must be one of {', '.join(EVIDENCE_KINDS)}"]
    clean["kind"] = kind
    for name, limit in LIMITS.items():
        value = " ".join(str(fields.get(name) or "").split()) if name != "description" \
            else str(fields.get(name) or "").strip()
        if not value:
            errors[name] = ["required"]
        elif len(value) > limit:
            errors[name] = [f"must be at most {limit} characters"]
        clean[name] = value
    if clean["collector_1"] and clean["collector_1"] == clean["collector_2"]:
        errors["collector_2"] = ["two different collectors are required"]
    collected = fields.get("collected_at")
    if isinstance(collected, str) and collected.strip():
        try:
            collected = datetime.fromisoformat(collected.strip())
        except ValueError:
            collected = "bad"
    if not collected:
        errors["collected_at"] = ["required"]
    elif not isinstance(collected, datetime) or collected.tzinfo is None:
        errors["collected_at"] = ["must be a date and time with its time zone"]
    elif collected > at + timedelta(minutes=5):
        errors["collected_at"] = ["must not be in the future"]
    clean["collected_at"] = collected
    declared = str(fields.get("declared_sha256") or "").strip().lower() or None
    if declared and not SHA256.fullmatch(declared):
        errors["declared_sha256"] = ["must be 64 hexadecimal digits"]
    clean["declared_sha256"] = declared
    clean["confidential"] = fields.get("confidential") not in (False, "false", "0", "", None)
    if errors:
        raise InvalidInput("evidence item is not valid", errors)
    return clean


def add_evidence(
    session: Session, store: EvidenceStore, actor: User, case_id: int, fields: dict[str, Any],
    stream: BinaryIO | None = None, filename: str | None = None,
) -> EvidenceItem:
    """Record an evidence item of a case, with its file when there is one.

    Handlers of an agency taking part in the case may add items (Forbidden otherwise; NotFound
    if they cannot see the case). Metadata is checked first (InvalidInput, nothing written);
    the file (of any type) is then stored under a generated name, hashed by the server, its type
    recorded from its content, and checked against the declared SHA-256 when one was typed, for
    any kind of item (TooLarge past the store's limit, InvalidInput on `file` or `declared_sha256`).
    Item and `evidence_added` are one transaction.
    """
    stored: StoredFile | None = None
    try:
        with transaction(session):
            case = _case_for(session, actor, case_id)
            if not policy.can_add_evidence(session, actor, case):
                raise Forbidden("only handlers of an agency taking part in the case add evidence")
            clean = validate(fields, now(session))
            if stream is not None:
                try:
                    stored = store.save(stream, filename or "")
                except FileTooLarge as exc:
                    raise TooLarge(str(exc)) from exc
                except UnsupportedFile as exc:
                    raise InvalidInput("file not accepted", {"file": [str(exc)]}) from exc
                if clean["declared_sha256"] and clean["declared_sha256"] != stored.sha256:
                    raise InvalidInput("declared hash differs", {"declared_sha256": [
                        f"does not match the file's SHA-256 ({stored.sha256})"]})
            agency = actor.agency
            assert agency is not None, "policy.can_add_evidence lets only users of an agency add evidence"
            item = EvidenceItem(
                case_id=case.id, owner_agency_id=agency.id, uploaded_by_id=actor.id,
                uploaded_at=now(session), **clean,
                **({"storage_name": stored.storage_name, "sha256": stored.sha256, "size": stored.size,
                    "content_type": stored.content_type, "original_name": stored.original_name}
                   if stored else {}),
            )
            session.add(item)
            session.flush()
            _audit(session, item, "evidence_added", actor, kind=item.kind, sha256=item.sha256,
                   size=item.size, content_type=item.content_type, confidential=item.confidential)
            return item
    except BaseException:
        # The item was not recorded (transaction() rolled it back): its file must not stay either.
        if stored is not None:
            store.discard(stored.storage_name)
        raise


@transactional
def view_evidence(session: Session, actor: User, evidence_id: int) -> EvidenceView:
    """An item and its custody for its page, as the actor may see them (EvidenceView); recorded
    as `evidence_viewed`."""
    item = visible_evidence(session, actor, evidence_id)
    _audit(session, item, "evidence_viewed", actor)
    return as_seen_by(session, actor, item)


def open_evidence(session: Session, store: EvidenceStore, actor: User, evidence_id: int) -> OpenedEvidence:
    """An item's file for download, re-hashed on this read and recorded as
    `evidence_downloaded`.

    NotFound if the actor may not see the item or it has no file; Forbidden if they see it but
    may not open it (policy.can_open_evidence). A file that no longer matches its recorded
    SHA-256, or is missing, is not served: `evidence_integrity_failed` is recorded and
    EvidenceCorrupted raised (verified_open commits that record before it raises).
    """
    with transaction(session):
        item = visible_evidence(session, actor, evidence_id)
        if not item.has_file:
            raise NotFound(f"evidence {evidence_id} has no file")
        if not policy.can_open_evidence(session, actor, item):
            raise Forbidden(f"evidence {evidence_id} is confidential")
        opened = verified_open(session, store, actor, item)
        _audit(session, item, "evidence_downloaded", actor, sha256=item.sha256)
        return opened


def verified_open(session: Session, store: EvidenceStore, actor: User, item: EvidenceItem) -> OpenedEvidence:
    """The item's file, re-hashed as it is copied out. On a mismatch (or a missing file)
    `evidence_integrity_failed` is recorded and committed, and EvidenceCorrupted raised; on a
    match the caller records its own reading and commits."""
    assert item.storage_name is not None, "only an item with a file is opened"
    copy: BinaryIO | None
    try:
        copy, sha = store.verified_copy(item.storage_name)
    except FileNotFoundError:
        copy, sha = None, None
    if copy is None or sha != item.sha256:
        if copy is not None:
            copy.close()
        integrity_failed(session, item, actor, sha)
        session.commit()  # the damage is on record even though the read it stopped fails
        raise EvidenceCorrupted(f"evidence {item.id}: the stored file does not match its SHA-256")
    integrity_confirmed(session, item, actor)
    return OpenedEvidence(item, copy, item.original_name or "evidence", item.content_type or "application/octet-stream",
                          item.size or 0)


def integrity_failed(session: Session, item: EvidenceItem, actor: User | None, found: str | None) -> None:
    """Record that an item's file no longer matches (None: the file is gone): the item is marked
    damaged from the first such read on (`corrupted_at`, `corrupted_sha256`), and the supervisors
    are told then (notifications.evidence_damaged); each read that finds it so is an
    `evidence_integrity_failed` event, in the caller's transaction."""
    if item.corrupted_at is None:
        item.corrupted_at, item.corrupted_sha256 = now(session), found
        # Imported here: the task hooks import this module while the oversight package loads.
        from engine.oversight import notifications
        notifications.evidence_damaged(session, item.case, item.id, actor)
    _audit(session, item, "evidence_integrity_failed", actor, expected=item.sha256, found=found)


def verdict_overridden(session: Session, item: EvidenceItem, reviewer: User, chosen: str, **detail) -> None:
    """A reviewer chose `chosen` for an item whose file failed its hash check (damaged, or unlike
    the declared value), and the verdict was made a rejection: the case's timeline says so and
    why (`evidence_verdict_overridden`, with `detail`: the problem, what was expected and what
    was found), and the reviewer is notified. Caller's transaction."""
    _audit(session, item, "evidence_verdict_overridden", reviewer, chosen=chosen, verdict="rejected", **detail)
    from engine.oversight import notifications  # see integrity_failed
    notifications.verdict_overridden(session, item.case, item.id, reviewer, chosen)


def integrity_confirmed(session: Session, item: EvidenceItem, actor: User | None) -> None:
    """A read found the file whole: an item marked damaged is whole again (its file was restored
    from a backup), recorded as `evidence_integrity_restored` in the caller's transaction."""
    if item.corrupted_at is not None:
        item.corrupted_at, item.corrupted_sha256 = None, None
        _audit(session, item, "evidence_integrity_restored", actor, sha256=item.sha256)


def _audit(session: Session, item: EvidenceItem, event_type: str, actor: User | None, **detail) -> None:
    # The title is the item's number, never its file name: timelines are read by supervisors,
    # who see evidence metadata without names (EvidenceView).
    audit.record(session, event_type, actor=actor, case_id=item.case_id,
                 detail={"evidence_id": item.id, "title": f"#{item.id}", **detail})
