"""Clues (线索): registered by SAMR, the police, the procuratorate or a service station before
there is a case, with their attachments; triaged by the triage agency (SAMR unless the web app
is configured otherwise), which opens a case from a clue, choosing the mechanisms to start, or
closes it with reasons.

`triage_agency` is the code of that agency: the web app reads it from its configuration and
passes it to every function here. Each state change is one transaction with its audit event
(`clue_registered`, `clue_attachment_added`, `clue_triaged`, `clue_attachment_downloaded`),
written to the system chain (a clue belongs to no case); a case opened from a clue names it in
its `case_created` event, and its attachments become the case's evidence items
(engine/casework/clue_evidence.py). The file of an attachment that fails to be recorded is
removed again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.access import audit, policy
from engine.casework.cases import OpenedCase, checked_mechanisms, open_case_in
from engine.casework.clue_evidence import carry_attachments, clue_evidence, store_for
from engine.casework.evidence_files import EvidenceStore, FileTooLarge, StoredFile, UnsupportedFile
from engine.errors import Conflict, EvidenceCorrupted, Forbidden, InvalidInput, NotFound, TooLarge
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import CLUE_SOURCES, CLUE_STATUSES, Clue, ClueAttachment, EvidenceItem, User

TEXT_LIMITS = {"rights_holder": 300, "suspect": 300, "summary": 4000}
MAX_REASON = 2000
MAX_FILES = 10
# Up to ten trillion yuan: anything larger is a typing error.
MAX_AMOUNT = 10**13
AMOUNTS = ("loss_amount", "illegal_gain")
DECISIONS = ("open", "close")
# What only the registering agency and the triagers see of a clue.
CONTENT = ("rights_holder", "suspect", "summary", "loss_amount", "illegal_gain", "triage_reason", "attachments")


class ClueView:
    """A clue as one user may see it: the CONTENT fields are None (attachments empty) unless
    `content`; number, source, agency, status and dates read through to the clue."""

    def __init__(self, clue: Clue, content: bool) -> None:
        self.clue, self.content = clue, content

    def __getattr__(self, name: str) -> Any:
        if not self.content and name in CONTENT:
            return [] if name == "attachments" else None
        return getattr(self.clue, name)


@dataclass(frozen=True)
class CluePage:
    items: Sequence[ClueView]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class TriageResult:
    """The triaged clue, the case opened from it (None when it was closed) and the evidence
    items its attachments became."""

    clue: Clue
    opened: OpenedCase | None
    evidence: Sequence[EvidenceItem] = ()


@dataclass
class OpenedAttachment:
    """A verified copy of an attachment's file, to be streamed and then closed."""

    attachment: ClueAttachment
    stream: BinaryIO
    name: str
    content_type: str
    size: int


def _as_seen(actor: User, clue: Clue, triage_agency: str) -> ClueView:
    return ClueView(clue, policy.can_view_clue_content(actor, clue, triage_agency))


def _visible(session: Session, actor: User, clue_id: int, triage_agency: str) -> Clue:
    clue = session.get(Clue, clue_id)
    if clue is None or not policy.can_view_clue(actor, clue, triage_agency):
        raise NotFound(f"clue {clue_id} does not exist")
    return clue


def visible_clue(session: Session, actor: User, clue_id: int, triage_agency: str) -> ClueView:
    """A clue as the actor may see it (ClueView), else NotFound: station staff and agencies see
    their own agency's clues, the triagers and overseers every clue (overseers without content)."""
    return _as_seen(actor, _visible(session, actor, clue_id, triage_agency), triage_agency)


def clue_page(
    session: Session, actor: User, triage_agency: str, status: str | None = None, source: str | None = None,
    page: int = 1, per_page: int = 20,
) -> CluePage:
    """The clues the actor sees, newest first, narrowed to a status and a source (InvalidInput
    naming the filter for an unknown value)."""
    errors: dict[str, list[str]] = {}
    if status and status not in CLUE_STATUSES:
        errors["status"] = [f"must be one of {', '.join(CLUE_STATUSES)}"]
    if source and source not in CLUE_SOURCES:
        errors["source"] = [f"must be one of {', '.join(CLUE_SOURCES)}"]
    if errors:
        raise InvalidInput("unknown filter", errors)
    query = select(Clue)
    scope = policy.clue_agency_scope(actor, triage_agency)
    if scope is not None:
        query = query.where(Clue.agency_id.in_(scope))
    if status:
        query = query.where(Clue.status == status)
    if source:
        query = query.where(Clue.source == source)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    rows = session.scalars(query.options(selectinload(Clue.attachments), selectinload(Clue.case))
                           .order_by(Clue.registered_at.desc(), Clue.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return CluePage([_as_seen(actor, clue, triage_agency) for clue in rows], total, page, per_page)


def clue_of_case(session: Session, actor: User, case_id: int, triage_agency: str) -> ClueView | None:
    """The clue a case was opened from, if the actor may see it."""
    clue = session.scalar(select(Clue).where(Clue.case_id == case_id))
    if clue is None or not policy.can_view_clue(actor, clue, triage_agency):
        return None
    return _as_seen(actor, clue, triage_agency)


def evidence_of_clue(session: Session, actor: User, clue_id: int, triage_agency: str) -> dict[int, EvidenceItem]:
    """The evidence items of the case opened from the clue that its attachments became, by
    attachment id, for those who see both the clue and the case (else empty); NotFound like
    the clue."""
    return clue_evidence(session, actor, _visible(session, actor, clue_id, triage_agency))


def _amount(value: Any) -> int | None:
    """Whole yuan, or None for unknown (blank); ValueError with the reason otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("must be a whole number of yuan")
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise ValueError("must be a whole number of yuan (leave it empty when not known)")
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number of yuan")
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("must be a whole number of yuan")
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    return value


def validate(fields: dict[str, Any]) -> dict[str, Any]:
    """A clue's fields cleaned, or InvalidInput naming every bad field. Amounts left empty are
    unknown (None), never 0."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    source = fields.get("source")
    if source not in CLUE_SOURCES:
        errors["source"] = [f"must be one of {', '.join(CLUE_SOURCES)}"]
    clean["source"] = source
    for name, limit in TEXT_LIMITS.items():
        raw = str(fields.get(name) or "")
        value = raw.strip() if name == "summary" else " ".join(raw.split())
        if name == "summary" and not value:
            errors[name] = ["required"]
        elif len(value) > limit:
            errors[name] = [f"must be at most {limit} characters"]
        clean[name] = value
    for name in AMOUNTS:
        try:
            clean[name] = _amount(fields.get(name))
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise InvalidInput("clue is not valid", errors)
    return clean


def _store_files(store: EvidenceStore, files: Sequence[tuple[BinaryIO, str]], stored: list[StoredFile]) -> None:
    for stream, filename in files:
        try:
            stored.append(store.save(stream, filename or ""))
        except FileTooLarge as exc:
            raise TooLarge(str(exc)) from exc
        except UnsupportedFile as exc:
            raise InvalidInput("file not accepted", {"files": [str(exc)]}) from exc


def _attach(session: Session, actor: User, clue: Clue, stored: StoredFile) -> ClueAttachment:
    attachment = ClueAttachment(
        storage_name=stored.storage_name, sha256=stored.sha256, size=stored.size,
        content_type=stored.content_type, original_name=stored.original_name,
        uploaded_by_id=actor.id, uploaded_at=now(session))
    clue.attachments.append(attachment)
    return attachment


def register_clue(
    session: Session, store: EvidenceStore, actor: User, fields: dict[str, Any],
    files: Sequence[tuple[BinaryIO, str]] = (),
) -> Clue:
    """Register a clue in the actor's agency, with its attachments (any type, hashed by the
    server). Handlers of SAMR, the police and the procuratorate and a service station's intake
    staff may (Forbidden otherwise); fields are checked first (InvalidInput, nothing written).
    Clue, attachments and `clue_registered` are one transaction."""
    stored: list[StoredFile] = []
    try:
        with transaction(session):
            if not policy.can_register_clue(actor):
                raise Forbidden("only handlers of SAMR, the police and the procuratorate, and service station "
                                "staff, register clues")
            clean = validate(fields)
            if len(files) > MAX_FILES:
                raise InvalidInput("too many files", {"files": [f"at most {MAX_FILES} files"]})
            _store_files(store, files, stored)
            agency = actor.agency
            assert agency is not None, "policy.can_register_clue: a member of an agency"
            at = now(session)
            clue = Clue(number=f"pending-{at.timestamp()}-{actor.id}", agency_id=agency.id, status="pending",
                        registered_by_id=actor.id, registered_at=at, **clean)
            session.add(clue)
            for one in stored:
                _attach(session, actor, clue, one)
            session.flush()
            clue.number = f"XS{at.year}-{clue.id:05d}"
            audit.record(session, "clue_registered", actor=actor, detail={
                "clue_id": clue.id, "number": clue.number, "source": clue.source,
                "attachments": [{"sha256": one.sha256, "size": one.size} for one in stored]})
            return clue
    except BaseException:
        for one in stored:
            store.discard(one.storage_name)
        raise


def add_clue_attachment(
    session: Session, store: EvidenceStore, actor: User, clue_id: int, triage_agency: str,
    stream: BinaryIO, filename: str,
) -> ClueAttachment:
    """Add a file to a clue waiting for triage (its agency's registrars and the triagers;
    Forbidden for others who see it, Conflict once it was triaged); `clue_attachment_added`."""
    stored: list[StoredFile] = []
    try:
        with transaction(session):
            clue = _visible(session, actor, clue_id, triage_agency)
            if clue.status != "pending":
                raise Conflict(f"clue {clue.number} was triaged already")
            if not policy.can_add_clue_attachment(actor, clue, triage_agency):
                raise Forbidden("you may not add files to this clue")
            if len(clue.attachments) >= MAX_FILES:
                raise InvalidInput("too many files", {"file": [f"a clue has at most {MAX_FILES} files"]})
            _store_files(store, [(stream, filename)], stored)
            attachment = _attach(session, actor, clue, stored[0])
            session.flush()
            audit.record(session, "clue_attachment_added", actor=actor, detail={
                "clue_id": clue.id, "number": clue.number, "attachment_id": attachment.id,
                "sha256": attachment.sha256, "size": attachment.size})
            return attachment
    except BaseException:
        for one in stored:
            store.discard(one.storage_name)
        raise


def open_clue_attachment(
    session: Session, store: EvidenceStore, actor: User, clue_id: int, attachment_id: int, triage_agency: str,
) -> OpenedAttachment:
    """An attachment's file for download, re-hashed as it is copied out and recorded as
    `clue_attachment_downloaded`; NotFound unless the actor may read the clue's content. A file
    that no longer matches its SHA-256 (or is gone) is not served: `clue_attachment_integrity_failed`
    is recorded and committed, and EvidenceCorrupted raised."""
    with transaction(session):
        clue = _visible(session, actor, clue_id, triage_agency)
        attachment = session.get(ClueAttachment, attachment_id)
        if (attachment is None or attachment.clue_id != clue.id
                or not policy.can_view_clue_content(actor, clue, triage_agency)):
            raise NotFound(f"attachment {attachment_id} does not exist")
        try:
            copy, sha = store.verified_copy(attachment.storage_name)
        except FileNotFoundError:
            copy, sha = None, None
        if copy is None or sha != attachment.sha256:
            if copy is not None:
                copy.close()
            audit.record(session, "clue_attachment_integrity_failed", actor=actor, detail={
                "clue_id": clue.id, "number": clue.number, "attachment_id": attachment.id,
                "expected": attachment.sha256, "found": sha})
            session.commit()  # the damage is on record even though the read it stopped fails
            raise EvidenceCorrupted(f"clue attachment {attachment.id}: the stored file does not match its SHA-256")
        audit.record(session, "clue_attachment_downloaded", actor=actor, detail={
            "clue_id": clue.id, "number": clue.number, "attachment_id": attachment.id, "sha256": sha})
        return OpenedAttachment(attachment, copy, attachment.original_name, attachment.content_type, attachment.size)


def triage_clue(
    session: Session, actor: User, clue_id: int, triage_agency: str, decision: str, *,
    reason: str = "", title: str = "", confidentiality: str = "confidential",
    mechanisms: Sequence[str] = (), store: EvidenceStore | None = None,
) -> TriageResult:
    """Decide a clue waiting for triage: `open` a case from it (owned by the triager's agency,
    titled `title`, starting the `mechanisms` chosen among the triager's `opening_mechanisms`;
    `reason` an optional note) or `close` it (`reason` required).

    The triage agency's handlers and heads decide (Forbidden for others who see the clue;
    Conflict if it was triaged already). InvalidInput names `decision`, `reason`, `title`,
    `confidentiality` or `mechanisms`; nothing is written then. The clue's new state, the case
    with its instances, the evidence items its attachments become (their files re-hashed in
    `store`, else the store bound to the session) and `clue_triaged` are one transaction.
    """
    with transaction(session):
        clue = _visible(session, actor, clue_id, triage_agency)
        if not policy.can_triage_clues(actor, triage_agency):
            raise Forbidden("only handlers and heads of the triage agency triage clues")
        if not policy.can_triage_clue(actor, clue, triage_agency):
            raise Conflict(f"clue {clue.number} was triaged already")
        note = (reason or "").strip()
        errors: dict[str, list[str]] = {}
        if decision not in DECISIONS:
            errors["decision"] = [f"must be one of {', '.join(DECISIONS)}"]
        if decision == "close" and not note:
            errors["reason"] = ["required: say why the clue is closed"]
        if len(note) > MAX_REASON:
            errors["reason"] = [f"must be at most {MAX_REASON} characters"]
        if errors:
            raise InvalidInput("cannot triage the clue", errors)
        at = now(session)
        opened, keys, items = None, [], []
        if decision == "open":
            keys = checked_mechanisms(session, actor, mechanisms)
            opened = open_case_in(session, actor, title, confidentiality, keys,
                                  detail={"clue": clue.number, "clue_id": clue.id})
            clue.case_id = opened.case.id
            if clue.attachments:
                items = carry_attachments(session, store_for(session, store), actor, clue, opened.case)
        clue.status = "opened" if decision == "open" else "closed"
        clue.triaged_by_id, clue.triaged_at, clue.triage_reason = actor.id, at, note or None
        audit.record(session, "clue_triaged", actor=actor, detail={
            "clue_id": clue.id, "number": clue.number, "decision": decision,
            "case_number": opened.case.number if opened else None,
            "mechanisms": keys, "evidence_ids": [item.id for item in items]})
        session.flush()
        return TriageResult(clue, opened, items)
