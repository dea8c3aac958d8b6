"""Documents the law copies to an agency that oversees the case: readable by that agency's
liaison even where the rest of the case's content is closed to it (a `secret` case).

DOMAIN §1: the procuratorate is copied on every transfer. The transfer letter goes to it with the
list of its attachments, and the police's filing decision on the transferred case (立案 or 不予立案,
the reconsideration that upholds a 不予立案, the files returned with it) is copied or reported to it
(the 2011 opinions on linking administrative enforcement with criminal justice; the copy's
reports in engine/mechanisms/procuratorate.py). Those documents are the copy the law sends, so the
procuratorate reads them whatever the case's confidentiality: its liaison, who receives what is
copied to the agency, and the users assigned to the case (who read a secret case's content in
any event, `is_assigned`). Nothing else of a secret case opens through this rule: no task
results, facts, evidence files or other documents.

A reading through this rule is a reading of confidential material: `reads_as_copy` (cases.py)
says so, and the engine records it as such (engine/casework/documents.py `open_document`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import Agency, CaseParticipant, User

# Document kind -> the agencies (codes) the law copies it to as the case's overseer.
COPIED_TO: Mapping[str, frozenset[str]] = {
    # 移送书 with its list of attachments (copy-to procuratorate, DOMAIN "Documents").
    "transfer_letter": frozenset({"procuratorate"}),
    # The filing decision on a transferred case, copied to the procuratorate.
    "filing_notice": frozenset({"procuratorate"}),
    "non_filing_notice": frozenset({"procuratorate"}),
    # A reconsideration that upholds the 不予立案 is reported to it (non_filing_upheld_reported).
    "reconsideration_decision": frozenset({"procuratorate"}),
    # The files returned with a 不予立案, as SAMR counted and signed for them.
    "returned_materials_receipt": frozenset({"procuratorate"}),
    # A trade-secret penalty decision copied to police and procuratorate (DOMAIN §4).
    "penalty_decision_copy": frozenset({"procuratorate"}),
}
# Who in the copied agency receives what is copied to it.
RECEIVING_ROLE = "liaison"


def is_copied_to(session: Session, user: User, document: Any) -> bool:
    """The document is of a kind the law copies to an agency of the user's in which they are its
    liaison, and that agency takes part in the document's case (copied on it, or a party)."""
    codes = COPIED_TO.get(getattr(document, "kind", ""), frozenset())
    liaison_of = {m.agency_id for m in user.memberships if m.role == RECEIVING_ROLE}
    if not codes or not liaison_of:
        return False
    return bool(session.scalar(select(exists().where(
        CaseParticipant.case_id == document.case_id, CaseParticipant.agency_id.in_(liaison_of),
        CaseParticipant.agency_id.in_(select(Agency.id).where(Agency.code.in_(codes))),
    ))))
