"""A clue's attachments become the evidence of the case opened from it.

When triage opens a case from a clue, each attachment becomes one evidence item of the new case,
in the triage's transaction (`carry_attachments`): owned by the triage agency and recorded by the
triager, its source naming the clue and the agency or service station that registered it. The
item refers to the attachment's own file in the evidence store (the same storage name and
SHA-256: no bytes are copied, and nothing in the store ever deletes a committed file); the file
is hashed once more first, and one that no longer matches is carried over marked damaged, with
its supervisors told (`evidence.integrity_failed`), never silently as whole.

The storage name is also the link back: the items of a clue are the items of its case that
refer to one of its attachments' files (`clue_evidence`), so no column joins the two tables.

Confidentiality: a clue's attachments were readable only by the registering agency and the
triagers (`policy.can_view_clue_content`), so every carried item is marked confidential (it may
hold the secret itself, CPL art. 54(3)): its file opens for the triager and the assigned
handlers of the agencies holding it, as any confidential item's; the case's own level is the
one the triager chose.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework.evidence import integrity_failed
from engine.casework.evidence_files import EvidenceStore
from engine.errors import EngineError
from engine.time.clock import now
from models import Case, Clue, ClueAttachment, EvidenceItem, User

AUDIO_VISUAL = ("audio/", "video/")


def store_for(session: Session, store: EvidenceStore | None) -> EvidenceStore:
    """The store passed, else the one the application bound to its sessions."""
    found = store or session.info.get("evidence_store")
    if found is None:
        raise EngineError("no evidence store: pass one or bind it to the session (session.info['evidence_store'])")
    return found


def _kind(content_type: str) -> str:
    """Recordings are audio-visual material; any other file a clue brings is electronic data
    (CPL art. 54(2)); the triager's colleagues may add items of other kinds themselves."""
    return "audio_visual" if content_type.startswith(AUDIO_VISUAL) else "electronic_data"


def source_of(clue: Clue) -> str:
    """The item's source: the clue and who registered it."""
    return f"线索{clue.number}（{clue.agency.name}登记）"[:300]


def carry_attachments(
    session: Session, store: EvidenceStore, actor: User, clue: Clue, case: Case,
) -> list[EvidenceItem]:
    """Each attachment of `clue` as an evidence item of `case`, audited (`evidence_added` naming
    the clue and the attachment; `evidence_integrity_failed` too for a file found damaged), in
    the caller's transaction."""
    agency = actor.agency
    assert agency is not None, "policy.can_triage_clues: a member of the triage agency"
    at, items = now(session), []
    for attachment in clue.attachments:
        item = _item(case, agency.id, actor, clue, attachment, at)
        session.add(item)
        session.flush()
        audit.record(session, "evidence_added", actor=actor, case_id=case.id, detail={
            "evidence_id": item.id, "title": f"#{item.id}", "kind": item.kind, "sha256": item.sha256,
            "size": item.size, "content_type": item.content_type, "confidential": item.confidential,
            "clue_id": clue.id, "clue": clue.number, "attachment_id": attachment.id})
        found = store.hash_of(attachment.storage_name)
        if found != attachment.sha256:
            integrity_failed(session, item, actor, found)
        items.append(item)
    return items


def _item(case: Case, agency_id: int, actor: User, clue: Clue, attachment: ClueAttachment, at) -> EvidenceItem:
    # Collected when the clue's registrar received the file, by that registrar; taken into the
    # case by the triager.
    return EvidenceItem(
        case_id=case.id, owner_agency_id=agency_id, kind=_kind(attachment.content_type),
        description=f"线索{clue.number}的附件：{attachment.original_name}", source=source_of(clue),
        collected_at=attachment.uploaded_at, collector_1=attachment.uploaded_by.display_name,
        collector_2=actor.display_name, declared_sha256=None, confidential=True,
        storage_name=attachment.storage_name, sha256=attachment.sha256, size=attachment.size,
        content_type=attachment.content_type, original_name=attachment.original_name,
        uploaded_by_id=actor.id, uploaded_at=at)


def clue_evidence(session: Session, actor: User, clue: Clue) -> dict[int, EvidenceItem]:
    """The evidence items made from the clue's attachments, by attachment id: for those who may
    see the case opened from it, else none."""
    case = clue.case
    if case is None or not clue.attachments or not policy.can_view_case(session, actor, case):
        return {}
    by_name = {a.storage_name: a.id for a in clue.attachments}
    items = session.scalars(select(EvidenceItem).where(
        EvidenceItem.case_id == case.id, EvidenceItem.storage_name.in_(by_name)))
    return {by_name[item.storage_name]: item for item in items if item.storage_name is not None}
