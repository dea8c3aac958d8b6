"""信息共享 on request (DOMAIN §4): the domain side of the information_sharing mechanism.

The diagram carries agency codes and the owner's yes/no; the request, the owner's draft answer and
the grant live in domain tables (models/sharing.py), written by hooks on the diagram's tasks:
- `information_request`: the requester's handler asks an owner agency (purpose, legal basis, what
  is asked, needed by).
- `information_request_release`: the requester's liaison sends it, or withdraws it.
- `information_answer`: the owner's handler drafts the answer: text and/or the owner's evidence
  items and documents of the case.
- `information_decision`: the owner's liaison grants it until a date to named users of the
  requester (`shared_information_granted`), or refuses it with reasons
  (`shared_information_refused`).
A grant is readable by its named users until it expires by the engine's clock; every reading of
it, its evidence files and documents is recorded as `shared_information_viewed`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework.evidence import OpenedEvidence, verified_open
from engine.casework.evidence_files import EvidenceStore
from engine.errors import EngineError, Forbidden, InvalidInput, NotFound
from engine.mechanisms.completion import ChoiceSource, Completion, Hook
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import (
    Agency,
    Case,
    Document,
    EvidenceItem,
    GrantViewer,
    HumanTask,
    InformationGrant,
    InformationRequest,
    Membership,
    User,
)

ZONE = ZoneInfo("Asia/Shanghai")  # dates on the forms are Beijing dates


class RequestState(StrEnum):
    """An information request's state (InformationRequest.state). A task's context line gives it
    as this code, which the task page names in its own language (web/labels.py)."""

    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    SENT = "sent"
    GRANTED = "granted"
    REFUSED = "refused"


class RequestLine(StrEnum):
    """The titles of a request task's context lines, worded by the task page (web/labels.py)."""

    REQUESTER = "requester"
    OWNER = "owner"
    PURPOSE = "purpose"
    LEGAL_BASIS = "legal_basis"
    ASKED = "asked"
    NEEDED_BY = "needed_by"
    STATE = "state"
    DRAFT_ANSWER = "draft_answer"
    DRAFT_EVIDENCE = "draft_evidence"
    DRAFT_DOCUMENTS = "draft_documents"
    SHARED_UNTIL = "shared_until"
    REFUSAL_REASONS = "refusal_reasons"


def today(session: Session) -> date:
    return now(session).astimezone(ZONE).date()


def end_of_day(day: date) -> datetime:
    """The last second of a Beijing calendar day, in UTC: a grant "until 20 March" covers it."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZONE).astimezone(timezone.utc)


def request_of(session: Session, instance_id: int) -> InformationRequest:
    request = session.scalar(select(InformationRequest).where(InformationRequest.instance_id == instance_id))
    if request is None:
        raise EngineError(f"instance {instance_id} has no information request")
    return request


def agency_documents(session: Session, actor: User, task: HumanTask) -> list[tuple[Any, str]]:
    """The case's documents issued by the actor's agency."""
    agencies = {m.agency_id for m in actor.memberships}
    docs = session.scalars(select(Document).where(
        Document.case_id == task.case_id, Document.issuing_agency_id.in_(agencies)).order_by(Document.id))
    return [(d.id, f"{d.number} {d.content.get('title', d.kind)}") for d in docs]


def requester_users(session: Session, actor: User, task: HumanTask) -> list[tuple[Any, str]]:
    """Active users of the requesting agency: who the owner's liaison may let read the answer."""
    request = request_of(session, task.instance_id)
    users = session.scalars(select(User).join(Membership).where(
        Membership.agency_id == request.requester_agency_id, User.active.is_(True)
    ).order_by(User.id).distinct())
    return [(u.id, f"{u.display_name}（{u.username}）") for u in users]


def _date(c: Completion, field: str) -> date:
    value = date.fromisoformat(c.data[field])
    if value < today(c.session):
        raise InvalidInput("date in the past", {field: ["must not be in the past"]})
    return value


def _request(c: Completion) -> None:
    session, actor = c.session, c.actor
    agency = actor.agency
    assert agency is not None, "only a user of an agency works a lane of this mechanism"
    owner = session.scalar(select(Agency).where(Agency.code == c.data["owner_agency"]))
    if owner is None or owner.id == agency.id:
        raise InvalidInput("owner agency", {"owner_agency": ["must be another agency"]})
    request = InformationRequest(
        case_id=c.task.case_id, instance_id=c.task.instance_id, requester_agency_id=agency.id,
        owner_agency_id=owner.id, purpose=c.data["purpose"], legal_basis=c.data["legal_basis"],
        asked=c.data["asked"], needed_by=_date(c, "needed_by"), state=RequestState.SUBMITTED,
        requested_by_id=actor.id, requested_at=now(session), evidence_ids=[], document_ids=[])
    session.add(request)
    session.flush()
    audit.record(session, "information_requested", actor=actor, case_id=c.task.case_id,
                 instance_id=c.task.instance_id, task_id=c.task.id,
                 detail={"request_id": request.id, "owner_agency": owner.code})


def _release(c: Completion) -> None:
    approved = c.data["handoff_approved"]
    request_of(c.session, c.task.instance_id).state = RequestState.SENT if approved else RequestState.WITHDRAWN


def _answer(c: Completion) -> None:
    text = (c.data.get("answer_text") or "").strip()
    evidence_ids, document_ids = c.data.get("evidence_ids", []), c.data.get("document_ids", [])
    if not (text or evidence_ids or document_ids):
        raise InvalidInput("empty answer", {"answer_text": ["write an answer or list evidence or documents"]})
    request = request_of(c.session, c.task.instance_id)
    request.answer_text, request.evidence_ids, request.document_ids = text, evidence_ids, document_ids


def _decision(c: Completion) -> None:
    session, actor = c.session, c.actor
    request = request_of(session, c.task.instance_id)
    request.decided_by_id, request.decided_at = actor.id, now(session)
    detail: dict[str, Any] = {"request_id": request.id}
    if c.data["sharing_approved"]:
        grant = InformationGrant(
            request_id=request.id, case_id=request.case_id, answer_text=request.answer_text,
            evidence_ids=list(request.evidence_ids), document_ids=list(request.document_ids),
            expires_at=end_of_day(_date(c, "expires_on")), granted_by_id=actor.id, granted_at=now(session))
        session.add(grant)
        session.flush()
        for user_id in c.data["viewer_ids"]:
            session.add(GrantViewer(grant_id=grant.id, user_id=user_id))
        request.state = RequestState.GRANTED
        event = "shared_information_granted"
        detail.update(grant_id=grant.id, expires_at=grant.expires_at.isoformat(), viewers=c.data["viewer_ids"])
    else:
        request.state, request.refusal_reasons = RequestState.REFUSED, c.data["refusal_reasons"]
        event = "shared_information_refused"
    audit.record(session, event, actor=actor, case_id=request.case_id, instance_id=c.task.instance_id,
                 task_id=c.task.id, detail=detail)


def _request_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    r = request_of(session, task.instance_id)
    lines: list[tuple] = [
        (RequestLine.REQUESTER, r.requester_agency.name), (RequestLine.OWNER, r.owner_agency.name),
        (RequestLine.PURPOSE, r.purpose), (RequestLine.LEGAL_BASIS, r.legal_basis), (RequestLine.ASKED, r.asked),
        (RequestLine.NEEDED_BY, r.needed_by.isoformat()), (RequestLine.STATE, RequestState(r.state))]
    answered = r.state in (RequestState.SENT, RequestState.GRANTED, RequestState.REFUSED)
    if answered and policy.is_party(session, actor, r.case) and any(
            m.agency_id == r.owner_agency_id for m in actor.memberships):
        # The draft answer is the owner's until its liaison grants it.
        lines += [(RequestLine.DRAFT_ANSWER, r.answer_text or None),
                  (RequestLine.DRAFT_EVIDENCE, [f"#{i}" for i in r.evidence_ids]),
                  (RequestLine.DRAFT_DOCUMENTS, [f"#{i}" for i in r.document_ids])]
    if r.state == RequestState.GRANTED and r.grant:
        lines.append((RequestLine.SHARED_UNTIL, r.grant.expires_at))
    if r.state == RequestState.REFUSED:
        lines.append((RequestLine.REFUSAL_REASONS, r.refusal_reasons))
    return lines




# --- reading what was shared ----------------------------------------------------------------

def shared_with_me(session: Session, user: User) -> list[InformationGrant]:
    """Grants naming the user that have not expired, newest first."""
    return list(session.scalars(
        select(InformationGrant).join(GrantViewer)
        .where(GrantViewer.user_id == user.id, InformationGrant.expires_at > now(session))
        .order_by(InformationGrant.id.desc())))


def _grant(session: Session, user: User, grant_id: int) -> InformationGrant:
    grant = session.get(InformationGrant, grant_id)
    if grant is None or user.id not in {v.user_id for v in grant.viewers}:
        raise NotFound(f"shared information {grant_id} does not exist")
    if grant.expires_at <= now(session):
        raise Forbidden(f"shared information {grant_id} expired at {grant.expires_at.isoformat()}")
    return grant


def _viewed(session: Session, user: User, grant: InformationGrant, **detail) -> None:
    audit.record(session, "shared_information_viewed", actor=user, case_id=grant.case_id,
                 detail={"grant_id": grant.id, "request_id": grant.request_id, **detail})


def open_grant(session: Session, user: User,
               grant_id: int) -> tuple[InformationGrant, list[EvidenceItem], list[Document]]:
    """A grant with its evidence items and documents, for a named user before it expires
    (NotFound for anyone else, Forbidden once expired); recorded as `shared_information_viewed`."""
    with transaction(session):
        grant = _grant(session, user, grant_id)
        items = [session.get_one(EvidenceItem, i) for i in grant.evidence_ids]
        docs = [session.get_one(Document, i) for i in grant.document_ids]
        _viewed(session, user, grant)
        return grant, items, docs


def open_shared_document(session: Session, user: User, grant_id: int, document_id: int) -> Document:
    """A document listed in a grant, read through the grant; recorded as `shared_information_viewed`."""
    with transaction(session):
        grant = _grant(session, user, grant_id)
        if document_id not in grant.document_ids:
            raise NotFound(f"document {document_id} is not part of shared information {grant_id}")
        _viewed(session, user, grant, document_id=document_id)
        return session.get_one(Document, document_id)


def open_shared_evidence(session: Session, store: EvidenceStore, user: User, grant_id: int,
                         evidence_id: int) -> OpenedEvidence:
    """An evidence file listed in a grant, re-hashed on this read like any evidence download; a
    file that no longer matches is not served (EvidenceCorrupted). Recorded as
    `shared_information_viewed` (and `evidence_integrity_failed` on a mismatch, which
    `verified_open` commits before it raises)."""
    with transaction(session):
        grant = _grant(session, user, grant_id)
        item = session.get(EvidenceItem, evidence_id)
        if evidence_id not in grant.evidence_ids or item is None or not item.has_file:
            raise NotFound(f"evidence {evidence_id} is not a file shared by {grant_id}")
        opened = verified_open(session, store, user, item)
        _viewed(session, user, grant, evidence_id=evidence_id, sha256=item.sha256)
        return opened


def case_requests(session: Session, actor: User, case: Case) -> list[InformationRequest]:
    """The case's information requests (who asked whom, what for, the outcome), for whoever may
    read the case's content; the answers themselves are read through grants only."""
    if not policy.can_view_case_content(session, actor, case):
        return []
    return list(session.scalars(select(InformationRequest).where(InformationRequest.case_id == case.id)
                                .order_by(InformationRequest.id)))


HOOKS = {
    "information_request": Hook(check=_request),
    "information_request_release": Hook(check=_release, context=_request_context),
    "information_answer": Hook(check=_answer, context=_request_context),
    "information_decision": Hook(check=_decision, context=_request_context),
    "information_result": Hook(context=_request_context),
}

CHOICES: dict[str, ChoiceSource] = {"agency_documents": agency_documents, "requester_users": requester_users}
