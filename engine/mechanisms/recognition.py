"""证据互认 (DOMAIN §2): the domain side of the evidence_recognition mechanism.

The diagram carries item ids and verdicts only; the hooks here keep the package, the custody of
its items and each verdict in domain tables, in the transaction of the task that caused them:
- `evidence_package` (submit): the items must be the submitting agency's items of the case
  (x-choices), at most MAX_ITEMS; the package is recorded (`evidence_package_submitted`).
- `evidence_package_release` (provider liaison): a pending custody row per item with the file's
  SHA-256 as re-computed now (`evidence_handed_over`).
- `evidence_package_receipt` (receiving liaison): the custody rows are signed for
  (`evidence_received`); from then on the receiving agency holds the items.
- `evidence_review` (one per item): interview records cannot be recognised; a file whose SHA-256,
  re-computed now, differs from the declared (electronic data) or recorded value is rejected
  whatever the reviewer chose, with the reason recorded (`evidence_integrity_failed`,
  `evidence_reviewed`); a reviewer who chose otherwise is told why (`evidence_verdict_overridden`).
- `evidence_recognition_result` (receiving liaison): the last round's result cannot be returned.
Files are read through the evidence store bound to the session (`session.info["evidence_store"]`).
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework import documents
from engine.casework.evidence import _audit as evidence_audit
from engine.casework.evidence import integrity_failed, verdict_overridden
from engine.casework.evidence_files import EvidenceStore
from engine.errors import EngineError, InvalidInput
from engine.mechanisms.completion import ChoiceSource, Completion, Hook, Term
from engine.time.clock import now
from models import Agency, Case, EvidenceCustody, EvidenceItem, EvidencePackage, HumanTask, PackageItem, User

MAX_ITEMS = 1000  # as the form says; a package of 1,000 is measured by bench growth
REASON_MAX = 2000  # the review form's maxLength
# The kinds as the generated documents (Chinese by statute) and the recorded reasons name them;
# pages word kinds themselves (web/labels.py EVIDENCE_KINDS).
KIND_TITLES = {
    "physical": "物证", "documentary": "书证", "audio_visual": "视听资料", "electronic_data": "电子数据",
    "expert_opinion": "鉴定意见", "inspection_record": "勘验、检查笔录", "interview_record": "询问笔录",
}


class PackageLine(StrEnum):
    """The titles of an evidence package task's context lines, worded by the task page (web/labels.py)."""

    PROVIDER = "provider"
    RECEIVER = "receiver"
    PURPOSE = "purpose"
    ITEM = "item"
    KIND = "kind"
    SOURCE = "source"
    COLLECTED_AT = "collected_at"
    COLLECTORS = "collectors"
    DECLARED_SHA256 = "declared_sha256"
    FILE = "file"
    INTEGRITY = "integrity"
    NOTE = "note"


class Verdict(StrEnum):
    """A package item's verdict (PackageItem.verdict)."""

    PENDING = "pending"
    RECOGNISED = "recognised"
    REJECTED = "rejected"
    SUPPLEMENT = "supplement"


def store_of(session: Session) -> EvidenceStore:
    """The evidence store the application bound to its sessions."""
    store = session.info.get("evidence_store")
    if store is None:
        raise EngineError("no evidence store is bound to this session (session.info['evidence_store'])")
    return store


def package_of(session: Session, instance_id: int) -> EvidencePackage:
    package = session.scalar(select(EvidencePackage).where(EvidencePackage.instance_id == instance_id))
    if package is None:
        raise EngineError(f"instance {instance_id} has no evidence package")
    return package


def _label(item: EvidenceItem) -> Term:
    """An item as a choice or a line names it: number, kind and the start of its description."""
    text = " ".join(item.description.split())
    return Term("Evidence", "item", {"id": item.id, "kind": Term("EvidenceKind", item.kind),
                                     "text": f"{text[:40]}{'…' if len(text) > 40 else ''}"})


def agency_evidence(session: Session, actor: User, task: HumanTask) -> list[tuple[Any, Term]]:
    """The case's items owned by the actor's agency: what it may hand over or share."""
    agencies = {m.agency_id for m in actor.memberships}
    items = session.scalars(select(EvidenceItem).where(
        EvidenceItem.case_id == task.case_id, EvidenceItem.owner_agency_id.in_(agencies)
    ).order_by(EvidenceItem.id))
    return [(item.id, _label(item)) for item in items]


def _file_hash(session: Session, item: EvidenceItem) -> str | None:
    return store_of(session).hash_of(item.storage_name) if item.storage_name is not None else None


# --- hooks ----------------------------------------------------------------------------------

def _submit(c: Completion) -> None:
    session, actor = c.session, c.actor
    ids = c.data["item_ids"]
    if len(ids) > MAX_ITEMS:
        raise InvalidInput("too many items", {"item_ids": [f"must be at most {MAX_ITEMS} items"]})
    provider = actor.agency
    assert provider is not None  # the task is in one of the actor's lanes
    receiving = session.scalar(select(Agency).where(Agency.code == c.data["receiving_agency"]))
    if receiving is None or receiving.id == provider.id:
        raise InvalidInput("receiving agency", {"receiving_agency": ["must be another agency"]})
    package = EvidencePackage(
        case_id=c.task.case_id, instance_id=c.task.instance_id, provider_agency_id=provider.id,
        receiving_agency_id=receiving.id, purpose=c.data.get("purpose", ""), state="submitted",
        submitted_by_id=actor.id, submitted_at=now(session), supplements=[])
    session.add(package)
    session.flush()
    for evidence_id in ids:
        session.add(PackageItem(package_id=package.id, evidence_id=evidence_id))
    audit.record(session, "evidence_package_submitted", actor=actor, case_id=c.task.case_id,
                 instance_id=c.task.instance_id, task_id=c.task.id,
                 detail={"package_id": package.id, "evidence_ids": ids, "to_agency": receiving.code})


def _release(c: Completion) -> None:
    session, actor = c.session, c.actor
    package = package_of(session, c.task.instance_id)
    if not c.data["handoff_approved"]:
        package.state = "refused"
        return
    at = now(session)
    for entry in package.items:
        item = entry.evidence
        sha = _file_hash(session, item)
        if item.has_file and sha != item.sha256:
            # Released as found; the receiving agency's review rejects it on the same check.
            integrity_failed(session, item, actor, sha)
        entry.custody = EvidenceCustody(
            evidence_id=item.id, from_agency_id=package.provider_agency_id,
            to_agency_id=package.receiving_agency_id, state="pending", released_by_id=actor.id,
            released_at=at, sha256=sha, note=f"证据互认 第{package.id}号材料")
        session.flush()
        evidence_audit(session, item, "evidence_handed_over", actor, custody_id=entry.custody.id,
                       to_agency=package.receiving_agency.code, sha256=sha, package_id=package.id)
    package.state = "sent"


def _receipt(c: Completion) -> None:
    session, actor = c.session, c.actor
    package = package_of(session, c.task.instance_id)
    at = now(session)
    for entry in package.items:
        custody = entry.custody
        assert custody is not None  # the release before this task gave every item its custody row
        custody.state, custody.received_by_id, custody.received_at = "received", actor.id, at
        sha = _file_hash(session, entry.evidence)
        evidence_audit(session, entry.evidence, "evidence_received", actor, custody_id=custody.id,
                       sha256=sha, package_id=package.id)
    package.state = "received"


def _entry(session: Session, task: HumanTask, data: Mapping[str, Any]) -> PackageItem:
    package = package_of(session, task.instance_id)
    return next(e for e in package.items if e.evidence_id == data["item_id"])


def integrity_problem(item: EvidenceItem, found: str | None) -> Term | None:
    """Why the item's file fails its authenticity check, or None when it passes (or has no file):
    the value it should have (declared for electronic data, else recorded) and the one found now
    (None when the file is gone)."""
    if item.kind == "electronic_data":
        if found is None or found != item.declared_sha256:
            return Term("Integrity", "declared_mismatch", {"expected": item.declared_sha256, "found": _found(found)})
    elif item.has_file and found != item.sha256:
        return Term("Integrity", "recorded_mismatch", {"expected": item.sha256, "found": _found(found)})
    return None


def _found(sha256: str | None) -> str | Term:
    return sha256 if sha256 is not None else Term("Integrity", "file_missing")


def _recorded_reason(problem: Term) -> str:
    """The problem as the review's recorded reason, which the case's documents quote: in Chinese,
    the language of the record."""
    found = problem.args["found"]
    expected, found = problem.args["expected"] or "（无）", found if isinstance(found, str) else "（文件缺失）"
    if problem.code == "declared_mismatch":
        return f"电子数据完整性校验值不一致：声明值 {expected}，重新计算值 {found}"
    return f"文件完整性校验值不一致：登记值 {expected}，重新计算值 {found}"


def _review(c: Completion) -> None:
    session, actor = c.session, c.actor
    entry = _entry(session, c.task, c.workflow_data)
    item = entry.evidence
    if item.kind == "interview_record" and c.data["verdict"] == "recognised":
        raise InvalidInput("interview record", {"verdict": [
            "interview records cannot be recognised: the receiving agency re-takes them"]})
    found = _file_hash(session, item)
    problem = integrity_problem(item, found)
    if problem:
        chosen = (c.data.get("reason") or "").strip()
        chosen_verdict = c.data["verdict"]
        c.data.update(verdict="rejected", authentic=False,
                      reason=(_recorded_reason(problem) + (f"。审查意见：{chosen}" if chosen else ""))[:REASON_MAX])
        if item.has_file and found != item.sha256:  # damaged, not only unlike a declared value
            integrity_failed(session, item, actor, found)
        if chosen_verdict != Verdict.REJECTED:
            verdict_overridden(session, item, actor, chosen_verdict, package_id=entry.package_id,
                               problem=problem.code, expected=problem.args["expected"], found=found)
    entry.verdict, entry.reason, entry.forced = c.data["verdict"], c.data.get("reason", ""), bool(problem)
    entry.sha256_found, entry.review_round = found, c.workflow_data.get("review_round")
    entry.reviewed_by_id, entry.reviewed_at = actor.id, now(session)
    evidence_audit(session, item, "evidence_reviewed", actor, package_id=entry.package_id,
                   verdict=entry.verdict, forced=entry.forced, round=entry.review_round)


def _supplement(c: Completion) -> None:
    package = package_of(c.session, c.task.instance_id)
    request = c.workflow_data.get("supplement_request") or {}
    package.supplements = [*package.supplements, {
        "round": request.get("round"), "item_ids": request.get("item_ids", []),
        "note": c.data["supplement_note"], "by": c.actor.display_name, "at": now(c.session).isoformat()}]


def _result(c: Completion) -> None:
    data = c.workflow_data
    if c.data["handoff_approved"] is False and data.get("review_round", 0) >= data.get("max_rounds", 0):
        raise InvalidInput("last round", {"handoff_approved": [
            f"round {data.get('review_round')} is the last review round; the result cannot be returned"]})


# --- what a task is about -------------------------------------------------------------------

def _items_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    package = package_of(session, task.instance_id)
    lines: list[tuple] = [(PackageLine.PROVIDER, package.provider_agency.name),
                          (PackageLine.RECEIVER, package.receiving_agency.name), (PackageLine.PURPOSE, package.purpose)]
    for entry in package.items:
        verdict: Verdict | Term = Verdict(entry.verdict)
        if entry.reason:
            verdict = Term("Evidence", "verdict_reason", {"verdict": verdict, "reason": entry.reason})
        lines.append((_label(entry.evidence), verdict, entry.evidence_id))
    return lines


def _review_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    if "item_id" not in data:
        # A finished review whose task left the stored state: the package with every verdict.
        return _items_context(session, actor, task, data)
    entry = _entry(session, task, data)
    item = entry.evidence
    lines: list[tuple] = [
        (PackageLine.ITEM, _label(item), item.id), (PackageLine.KIND, Term("EvidenceKind", item.kind)),
        (PackageLine.SOURCE, item.source), (PackageLine.COLLECTED_AT, item.collected_at),
        (PackageLine.COLLECTORS, [item.collector_1, item.collector_2])]
    if item.declared_sha256:
        lines.append((PackageLine.DECLARED_SHA256, item.declared_sha256))
    if item.has_file:
        lines.append((PackageLine.FILE, Term("Evidence", "file", {"name": item.original_name, "sha256": item.sha256})))
    if item.has_file or item.kind == "electronic_data":
        problem = integrity_problem(item, _file_hash(session, item))
        lines.append((PackageLine.INTEGRITY, problem or Term("Integrity", "intact")))
    if item.kind == "interview_record":
        lines.append((PackageLine.NOTE, Term("Evidence", "interview_not_recognised")))
    lines.extend((Term("Evidence", "supplement_round", {"round": supplement["round"]}), supplement["note"])
                 for supplement in package_of(session, task.instance_id).supplements
                 if item.id in supplement.get("item_ids", []))
    return lines




# --- documents ------------------------------------------------------------------------------

def _document_items(package: EvidencePackage, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    return [{
        "id": e.evidence.id, "kind": KIND_TITLES.get(e.evidence.kind, e.evidence.kind),
        "description": e.evidence.description, "format": e.evidence.content_type or "",
        "file": e.evidence.original_name or "", "size": e.evidence.size,
        "declared_sha256": e.evidence.declared_sha256 or "",
        "sha256": e.custody.sha256 if e.custody else e.evidence.sha256,
        "intact": bool(e.custody and e.custody.sha256 == e.evidence.sha256),
    } for e in package.items if kinds is None or e.evidence.kind in kinds]


def _electronic_data_list(session: Session, task: HumanTask, step_data: Mapping[str, Any] | None) -> dict[str, Any]:
    package = package_of(session, task.instance_id)
    return {"recipient": package.receiving_agency.code, "package_id": package.id,
            "items": _document_items(package, ("electronic_data",)), "item_count": len(package.items)}


def _handover(session: Session, task: HumanTask, step_data: Mapping[str, Any] | None) -> dict[str, Any]:
    package = package_of(session, task.instance_id)
    custody = next((e.custody for e in package.items if e.custody), None)
    return {"recipient": package.provider_agency.code, "package_id": package.id,
            "items": _document_items(package), "provider": package.provider_agency.name,
            "released_by": custody.released_by.display_name if custody else "",
            "released_at": custody.released_at.isoformat() if custody else None,
            "received_by": task.completed_by.display_name if task.completed_by else "",
            "received_at": custody.received_at.isoformat() if custody and custody.received_at else None}


documents.CONTENT_BUILDERS.update(electronic_data_list=_electronic_data_list, evidence_handover=_handover)


# --- pages ----------------------------------------------------------------------------------

def case_packages(session: Session, actor: User, case: Case) -> list[EvidencePackage]:
    """The case's evidence packages (metadata, verdicts and reasons) for whoever sees its content."""
    if not policy.can_view_case_content(session, actor, case):
        return []
    return list(session.scalars(select(EvidencePackage).where(EvidencePackage.case_id == case.id)
                                .order_by(EvidencePackage.id)))


def item_recognitions(session: Session, actor: User, item: EvidenceItem) -> list[PackageItem]:
    """Every package an item was handed over in, with its verdict there."""
    if not policy.can_view_case_content(session, actor, item.case):
        return []
    return list(session.scalars(select(PackageItem).where(PackageItem.evidence_id == item.id)
                                .order_by(PackageItem.id)))


HOOKS = {
    "evidence_package": Hook(check=_submit),
    "evidence_package_release": Hook(check=_release, context=_items_context),
    "evidence_package_receipt": Hook(check=_receipt, context=_items_context),
    "evidence_review": Hook(check=_review, context=_review_context),
    "evidence_supplement": Hook(check=_supplement, context=_items_context),
    "evidence_recognition_result": Hook(check=_result, context=_items_context),
    "evidence_recognition_view": Hook(context=_items_context),
}

CHOICES: dict[str, ChoiceSource] = {"agency_evidence": agency_evidence}
