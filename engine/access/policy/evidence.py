"""Evidence items, their files, and their custody between agencies."""
from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import Case, EvidenceCustody, EvidenceItem, User

from .cases import can_view_case, can_view_case_content
from .relations import has_role_in, is_assigned, is_party

# --- evidence ----------------------------------------------------------------------------

def holding_agency_ids(session: Session, item: EvidenceItem) -> set[int]:
    """The owning agency and every agency that received the item through a signed handoff
    (the recognising agencies)."""
    received = session.scalars(select(EvidenceCustody.to_agency_id).where(
        EvidenceCustody.evidence_id == item.id, EvidenceCustody.state == "received"))
    return {item.owner_agency_id, *received}


def signed_handoff(session: Session, user: User, item: EvidenceItem) -> bool:
    """The user released or received the item as a liaison."""
    return bool(session.scalar(select(exists().where(
        EvidenceCustody.evidence_id == item.id,
        or_(EvidenceCustody.released_by_id == user.id, EvidenceCustody.received_by_id == user.id),
    ))))


def is_confidential(item: EvidenceItem) -> bool:
    """Marked as involving the secret, or in a secret case (where everything is)."""
    return item.confidential or item.case.confidentiality == "secret"


def can_view_evidence(session: Session, user: User, item: EvidenceItem) -> bool:
    """Metadata (kind, source, collectors, hashes, custody): whoever sees the case."""
    return can_view_case(session, user, item.case)


def can_open_evidence(session: Session, user: User, item: EvidenceItem) -> bool:
    """The file itself. A confidential one never for an observer as such: it opens for the
    assigned handlers of an agency holding it, whatever their agency's relation to the case."""
    if not is_confidential(item):
        return can_view_case_content(session, user, item.case)
    # The uploader had the file already; a liaison who signed a handoff vouched for its hash.
    if item.uploaded_by_id == user.id or signed_handoff(session, user, item):
        return True
    return (has_role_in(user, "handler", holding_agency_ids(session, item))
            and is_assigned(session, user, item.case))


def can_add_evidence(session: Session, user: User, case: Case) -> bool:
    """Handlers of an agency taking part in the case as a party."""
    return user.has_role("handler") and is_party(session, user, case)


def can_hand_over_evidence(session: Session, user: User, item: EvidenceItem) -> bool:
    """A liaison of an agency holding the item releases it to another agency."""
    return has_role_in(user, "liaison", holding_agency_ids(session, item))


def can_receive_evidence(user: User, custody: EvidenceCustody) -> bool:
    """A liaison of the receiving agency signs for a pending handoff."""
    return custody.state == "pending" and has_role_in(user, "liaison", {custody.to_agency_id})
