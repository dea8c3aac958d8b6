"""Chain of custody: an evidence item handed from one agency to another (DOMAIN §2).

The sending agency's liaison releases the item, the receiving agency's liaison signs for it;
the file's SHA-256 is re-computed at both steps and must agree with the one recorded at upload.
Each step is one transaction with its audit event (`evidence_handed_over`,
`evidence_received`); a hash that no longer agrees is recorded as `evidence_integrity_failed`
and the step is refused with EvidenceCorrupted.
"""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from engine.access import policy
from engine.casework.evidence import _audit, integrity_confirmed, integrity_failed, visible_evidence
from engine.casework.evidence_files import EvidenceStore
from engine.errors import Conflict, EvidenceCorrupted, Forbidden, InvalidInput, NotFound
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import Agency, CaseParticipant, EvidenceCustody, EvidenceItem, User


def _check_file(session: Session, store: EvidenceStore, actor: User, item: EvidenceItem) -> str | None:
    """The file's hash now; records and raises if it no longer matches the upload's."""
    if not item.has_file or item.storage_name is None:
        return None
    sha = store.hash_of(item.storage_name)
    if sha != item.sha256:
        integrity_failed(session, item, actor, sha)
        session.commit()  # the damage is on record even though the hand-over it stopped fails
        raise EvidenceCorrupted(f"evidence {item.id}: the stored file does not match its SHA-256")
    integrity_confirmed(session, item, actor)
    return sha


def hand_over_evidence(
    session: Session, store: EvidenceStore, actor: User, evidence_id: int, to_agency_code: str,
    note: str = "",
) -> EvidenceCustody:
    """A liaison of an agency holding the item releases it to another agency taking part in
    the case. NotFound if the actor cannot see the item, Forbidden if they may not release it,
    InvalidInput for an agency that is not a party or already holds it, Conflict if a handoff
    to it is already pending."""
    # An integrity failure is committed by _check_file before it raises: rolling back after it loses nothing.
    with transaction(session):
        item = visible_evidence(session, actor, evidence_id)
        if not policy.can_hand_over_evidence(session, actor, item):
            raise Forbidden(f"only a liaison of an agency holding evidence {evidence_id} may hand it over")
        sha = _check_file(session, store, actor, item)
        target = session.scalar(select(Agency).where(Agency.code == to_agency_code))
        holders = policy.holding_agency_ids(session, item)
        party = target is not None and session.scalar(select(CaseParticipant.id).where(
            CaseParticipant.case_id == item.case_id, CaseParticipant.agency_id == target.id))
        if target is None or not party:
            raise InvalidInput("not a party", {"to_agency": ["must be an agency taking part in the case"]})
        if target.id in holders:
            raise InvalidInput("already holds", {"to_agency": ["already holds this item"]})
        if session.scalar(select(EvidenceCustody.id).where(
                EvidenceCustody.evidence_id == item.id, EvidenceCustody.state == "pending",
                EvidenceCustody.to_agency_id == target.id)):
            raise Conflict(f"a handoff of evidence {evidence_id} to {to_agency_code} is already pending")
        note = " ".join((note or "").split())
        if len(note) > 500:
            raise InvalidInput("note too long", {"note": ["must be at most 500 characters"]})
        sender = next(m.agency_id for m in actor.memberships
                      if m.role == "liaison" and m.agency_id in holders)
        custody = EvidenceCustody(
            evidence_id=item.id, from_agency_id=sender, to_agency_id=target.id, state="pending",
            released_by_id=actor.id, released_at=now(session), sha256=sha, note=note)
        session.add(custody)
        session.flush()
        _audit(session, item, "evidence_handed_over", actor, custody_id=custody.id,
               to_agency=to_agency_code, sha256=sha)
        return custody


def receive_evidence(
    session: Session, store: EvidenceStore, actor: User, custody_id: int, case_id: int | None = None,
) -> EvidenceCustody:
    """The receiving agency's liaison signs for a pending handoff; from then on the receiving
    agency holds (recognises) the item. NotFound if the actor cannot see it, Forbidden if they
    are not a liaison of the receiving agency, Conflict if it was already received. With
    `case_id`, a handoff of another case is NotFound."""
    # An integrity failure is committed by _check_file before it raises: rolling back after it loses nothing.
    with transaction(session):
        custody = session.get(EvidenceCustody, custody_id)
        if custody is None:
            raise NotFound(f"handoff {custody_id} does not exist")
        item = visible_evidence(session, actor, custody.evidence_id)
        if case_id is not None and item.case_id != case_id:
            raise NotFound(f"handoff {custody_id} is not of case {case_id}")
        if custody.state != "pending":
            raise Conflict(f"handoff {custody_id} was already received")
        if not policy.can_receive_evidence(actor, custody):
            raise Forbidden(f"only a liaison of the receiving agency may sign for handoff {custody_id}")
        sha = _check_file(session, store, actor, item)
        # Conditional, so of two liaisons signing at once exactly one does.
        signed = cast("CursorResult[Any]", session.execute(
            update(EvidenceCustody)
            .where(EvidenceCustody.id == custody_id, EvidenceCustody.state == "pending")
            .values(state="received", received_by_id=actor.id, received_at=now(session))
            .execution_options(synchronize_session=False)
        )).rowcount
        if not signed:
            raise Conflict(f"handoff {custody_id} was already received")
        session.refresh(custody)
        _audit(session, item, "evidence_received", actor, custody_id=custody.id, sha256=sha)
        return custody
