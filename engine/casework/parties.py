"""Rights holders as parties of a case, the notices they are owed and the delivery of each.

A holder (权利人) is recorded by a handler of an agency taking part in the case. The notices a
holder is owed (`NOTICES`) follow from the case's tasks: a complaint's filing decision (told
within 5 working days), the police's 不予立案 on the holder's own report (CPL art. 112), the
police's decision on the holder's reconsideration, the procuratorate's answer to a request for
filing supervision (CPL art. 113), the court's ruling on a preservation application and the
administrative case's result. Each is a generated document (engine/casework/documents.py):
issued by the task itself where the diagram names it, otherwise generated from the case page;
each delivery is a `NoticeDelivery`. Every change is one transaction with its audit event.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.access import audit, policy
from engine.casework import documents
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import (
    DELIVERY_METHODS,
    HOLDER_KINDS,
    Case,
    Document,
    HumanTask,
    HumanTaskState,
    NoticeDelivery,
    ProcessInstance,
    ProcessModel,
    RightsHolder,
    User,
)

HOLDER_LIMITS = {"name": 200, "contact": 300, "representative": 120, "agent": 200}
HOLDER_REQUIRED = ("name", "contact")
DELIVERY_LIMITS = {"delivered_by": 120, "recipient": 200, "note": 2000}


@dataclass(frozen=True)
class NoticeRule:
    """A notice a holder is owed: the document `kind`, issued for the completed task `task` of the
    mechanism `mechanism` when its result satisfies `when` (field, value); due when the task
    `due_task` of the same instance is due (None: no statutory period for telling the holder)."""

    kind: str
    mechanism: str
    task: str
    due_task: str | None = None
    when: tuple[str, str] | None = None
    # The diagram's task issues the document itself (its `documents` property).
    automatic: bool = False


NOTICES: tuple[NoticeRule, ...] = (
    NoticeRule("complaint_decision_notice", "rights_protection", "decide_filing", due_task="notify_complainant"),
    NoticeRule("preservation_outcome_notice", "rights_protection", "decide_preservation"),
    NoticeRule("administrative_result_notice", "rights_protection", "investigate"),
    NoticeRule("holder_non_filing_notice", "rights_holder_remedies", "decide_holder_report",
               due_task="serve_non_filing_notice", when=("report_decision", "not_file"), automatic=True),
    NoticeRule("holder_reconsideration_decision", "rights_holder_remedies", "decide_holder_reconsideration",
               due_task="decide_holder_reconsideration", automatic=True),
    # A request received after the 7 days, refused as out of time (engine/mechanisms/remedies.py).
    NoticeRule("holder_late_request_refusal", "rights_holder_remedies", "decide_late_request",
               when=("late_request_decision", "refuse"), automatic=True),
    NoticeRule("holder_supervision_reply", "rights_holder_remedies", "reply_to_holder",
               due_task="reply_to_holder", automatic=True),
)
NOTICE_KINDS = tuple(rule.kind for rule in NOTICES)


@dataclass
class HolderNotice:
    """One notice owed on the case, where it stands: `state` is `owed` (no document yet),
    `generated` (not delivered) or `delivered`; `overdue` when it is not delivered and past due."""

    kind: str
    task: HumanTask
    state: str
    due_at: datetime | None
    overdue: bool
    document: Document | None
    deliveries: list[NoticeDelivery]
    # The user may generate the document now (a kind the diagram does not issue itself).
    can_generate: bool
    can_deliver: bool


# --- rights holders --------------------------------------------------------------------------

def _case(session: Session, actor: User, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, actor, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def rights_holders(session: Session, actor: User, case_id: int) -> Sequence[RightsHolder]:
    """The case's rights holders, oldest first; [] for those who may see the case but not its
    content (a holder's name and contact are case content)."""
    case = _case(session, actor, case_id)
    if not policy.can_view_rights_holders(session, actor, case):
        return []
    return session.scalars(select(RightsHolder).where(RightsHolder.case_id == case.id)
                           .order_by(RightsHolder.id)).all()


def _clean_holder(fields: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    kind = fields.get("kind")
    if kind not in HOLDER_KINDS:
        errors["kind"] = [f"must be one of {', '.join(HOLDER_KINDS)}"]
    clean["kind"] = str(kind)
    for name, limit in HOLDER_LIMITS.items():
        value = " ".join(str(fields.get(name) or "").split())
        if name in HOLDER_REQUIRED and not value:
            errors[name] = ["required"]
        elif len(value) > limit:
            errors[name] = [f"must be at most {limit} characters"]
        clean[name] = value
    if errors:
        raise InvalidInput("rights holder is not valid", errors)
    return clean


def _manageable(session: Session, actor: User, case_id: int) -> Case:
    case = _case(session, actor, case_id)
    if not policy.can_manage_rights_holders(session, actor, case):
        raise Forbidden("only handlers of an agency taking part in the case record its rights holders")
    return case


def add_rights_holder(session: Session, actor: User, case_id: int, fields: Mapping[str, Any]) -> RightsHolder:
    """Record a rights holder of the case (name, kind person/company, contact, representative,
    agent). Handlers of a party agency who may read the case's content (Forbidden otherwise);
    InvalidInput names each bad field and nothing is written. Commits with `rights_holder_added`."""
    with transaction(session):
        case = _manageable(session, actor, case_id)
        clean = _clean_holder(fields)
        holder = RightsHolder(case_id=case.id, created_by_id=actor.id, created_at=now(session), **clean)
        session.add(holder)
        session.flush()
        audit.record(session, "rights_holder_added", actor=actor, case_id=case.id,
                     detail={"holder_id": holder.id, "kind": holder.kind})
        return holder


def update_rights_holder(session: Session, actor: User, holder_id: int, fields: Mapping[str, Any]) -> RightsHolder:
    """Change a holder's particulars (all fields given again); as `add_rights_holder`, audited as
    `rights_holder_updated` with the names of the fields that changed."""
    with transaction(session):
        holder = session.get(RightsHolder, holder_id)
        if holder is None or not policy.can_view_case_content(session, actor, holder.case):
            raise NotFound(f"rights holder {holder_id} does not exist")
        _manageable(session, actor, holder.case_id)
        clean = _clean_holder(fields)
        changed = sorted(name for name, value in clean.items() if getattr(holder, name) != value)
        for name, value in clean.items():
            setattr(holder, name, value)
        holder.updated_by_id, holder.updated_at = actor.id, now(session)
        audit.record(session, "rights_holder_updated", actor=actor, case_id=holder.case_id,
                     detail={"holder_id": holder.id, "changed": changed})
        return holder


def visible_rights_holder(session: Session, actor: User, holder_id: int) -> RightsHolder:
    """A holder whose case's content the actor may read, else NotFound."""
    holder = session.get(RightsHolder, holder_id)
    if holder is None or not policy.can_view_rights_holders(session, actor, holder.case):
        raise NotFound(f"rights holder {holder_id} does not exist")
    return holder


# --- notices owed and their delivery ---------------------------------------------------------

def _rule_for(mechanism: str, bpmn_id: str) -> NoticeRule | None:
    return next((r for r in NOTICES if r.mechanism == mechanism and r.task == bpmn_id), None)


def _applies(rule: NoticeRule, task: HumanTask) -> bool:
    if rule.when is None:
        return True
    field, value = rule.when
    return (task.result or {}).get(field) == value


def holder_notices(session: Session, actor: User, case_id: int) -> list[HolderNotice]:
    """Every notice the case's holders are owed, oldest first, with its document and deliveries;
    [] for those who may not read the case's content."""
    case = _case(session, actor, case_id)
    if not policy.can_view_rights_holders(session, actor, case):
        return []
    rows = session.execute(
        select(HumanTask, ProcessModel.key)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
        .where(HumanTask.case_id == case.id, HumanTask.state == HumanTaskState.COMPLETED,
               HumanTask.bpmn_id.in_({r.task for r in NOTICES}),
               ProcessModel.key.in_({r.mechanism for r in NOTICES}))
        .order_by(HumanTask.completed_at, HumanTask.id)
    ).all()
    owed = [(task, rule) for task, key in rows if (rule := _rule_for(key, task.bpmn_id)) and _applies(rule, task)]
    if not owed:
        return []
    docs = {(d.task_id, d.kind): d for d in session.scalars(
        select(Document).where(Document.case_id == case.id, Document.kind.in_(NOTICE_KINDS)))}
    deliveries: dict[int, list[NoticeDelivery]] = {}
    for delivery in session.scalars(
            select(NoticeDelivery).where(NoticeDelivery.document_id.in_([d.id for d in docs.values()]))
            .options(selectinload(NoticeDelivery.holder)).order_by(NoticeDelivery.delivered_at)):
        deliveries.setdefault(delivery.document_id, []).append(delivery)
    due_tasks = {(t.instance_id, t.bpmn_id): t for t in session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id,
                                HumanTask.bpmn_id.in_({r.due_task for r in NOTICES if r.due_task})))}
    at = now(session)
    generate = policy.can_generate_document(session, actor, case)
    notices = []
    for task, rule in owed:
        document = docs.get((task.id, rule.kind))
        delivered = deliveries.get(document.id, []) if document else []
        due_task = due_tasks.get((task.instance_id, rule.due_task)) if rule.due_task else None
        due_at = due_task.due_at if due_task is not None else None
        state = "delivered" if delivered else "generated" if document else "owed"
        issuer = documents.KINDS[rule.kind].issuer
        of_issuer = actor.agency is not None and actor.agency.code == issuer
        notices.append(HolderNotice(
            kind=rule.kind, task=task, state=state, due_at=due_at,
            overdue=state != "delivered" and due_at is not None and due_at < at,
            document=document, deliveries=delivered,
            can_generate=document is None and not rule.automatic and generate and of_issuer,
            can_deliver=document is not None and policy.can_record_delivery(session, actor, document),
        ))
    return notices


def generate_holder_notice(session: Session, actor: User, task_id: int) -> Document:
    """Generate the notice a completed task makes owed, for a mechanism whose diagram does not
    issue it itself (a complaint's filing decision, a preservation ruling, an administrative
    result). The user must be a handler or head of the issuing agency who may read the case's
    content (Forbidden); Conflict if it was generated already or the task owes no notice.
    Commits with `document_generated`."""
    with transaction(session):
        task = session.get(HumanTask, task_id)
        if task is None or not policy.can_view_case_content(session, actor, task.case):
            raise NotFound(f"task {task_id} does not exist")
        rule = _rule_for(task.instance.process_model.key, task.bpmn_id)
        if rule is None or rule.automatic or task.state != HumanTaskState.COMPLETED or not _applies(rule, task):
            raise Conflict("this task owes the rights holder no notice to generate here")
        issuer = documents.KINDS[rule.kind].issuer
        if not (policy.can_generate_document(session, actor, task.case)
                and actor.agency is not None and actor.agency.code == issuer):
            raise Forbidden("only handlers and heads of the issuing agency generate this notice")
        if session.scalar(select(Document.id).where(Document.task_id == task.id, Document.kind == rule.kind)):
            raise Conflict("the notice was generated already")
        return documents.issue_document(session, actor, task, rule.kind)


def _delivery_time(value: Any, at: datetime) -> tuple[datetime | None, str | None]:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None, "must be a date and time such as 2026-03-02T10:00:00+08:00"
    if not isinstance(value, datetime):
        return None, "required"
    if value.tzinfo is None:
        return None, "must be a date and time with its time zone"
    if value > at + timedelta(minutes=5):
        return None, "must not be in the future"
    return value, None


def clean_delivery(session: Session, document: Document, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery's fields cleaned, or InvalidInput naming each bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if fields.get("method") not in DELIVERY_METHODS:
        errors["method"] = [f"must be one of {', '.join(DELIVERY_METHODS)}"]
    clean["method"] = fields.get("method")
    delivered_at, problem = _delivery_time(fields.get("delivered_at"), now(session))
    if problem:
        errors["delivered_at"] = [problem]
    elif delivered_at is not None and delivered_at < document.generated_at - timedelta(minutes=5):
        errors["delivered_at"] = ["must not be before the notice was generated"]
    clean["delivered_at"] = delivered_at
    for name, limit in DELIVERY_LIMITS.items():
        value = str(fields.get(name) or "").strip()
        if name != "note" and not value:
            errors[name] = ["required"]
        elif len(value) > limit:
            errors[name] = [f"must be at most {limit} characters"]
        clean[name] = value
    holder_id = fields.get("holder_id")
    if holder_id in (None, ""):
        clean["holder_id"] = None
    else:
        try:
            holder = session.get(RightsHolder, int(holder_id))
        except (TypeError, ValueError):
            holder = None
        if holder is None or holder.case_id != document.case_id:
            errors["holder_id"] = ["not a rights holder of this case"]
        clean["holder_id"] = holder.id if holder is not None else None
    if errors:
        raise InvalidInput("delivery is not valid", errors)
    return clean


def add_delivery(session: Session, actor: User, document: Document, clean: Mapping[str, Any]) -> NoticeDelivery:
    """Write a cleaned delivery with its `notice_delivered` event, in the caller's transaction."""
    delivery = NoticeDelivery(document_id=document.id, recorded_by_id=actor.id, recorded_at=now(session), **clean)
    session.add(delivery)
    session.flush()
    audit.record(session, "notice_delivered", actor=actor, case_id=document.case_id,
                 detail={"document_id": document.id, "number": document.number, "delivery_id": delivery.id,
                         "method": delivery.method, "delivered_at": delivery.delivered_at.isoformat()})
    return delivery


def record_delivery(session: Session, actor: User, document_id: int, fields: Mapping[str, Any]) -> NoticeDelivery:
    """Record how and when a holder's notice was delivered: method (in_person, post, email,
    phone, online), delivered_at (aware, not in the future, not before the notice), by whom,
    who received it, a note, and optionally which holder. Users of the issuing agency who may
    read the case's content (Forbidden otherwise); NotFound for other documents or ones the user
    may not read. Commits with `notice_delivered`."""
    with transaction(session):
        document = session.get(Document, document_id)
        if document is None or document.kind not in NOTICE_KINDS \
                or not policy.can_view_document(session, actor, document):
            raise NotFound(f"notice {document_id} does not exist")
        if not policy.can_record_delivery(session, actor, document):
            raise Forbidden("only the issuing agency records the delivery of its notice")
        return add_delivery(session, actor, document, clean_delivery(session, document, fields))


def visible_notice(session: Session, actor: User, document_id: int) -> Document:
    """A holder's notice the actor may read (not recorded as a viewing: its number and title
    only are shown beside its deliveries), else NotFound."""
    document = session.get(Document, document_id)
    if document is None or document.kind not in NOTICE_KINDS or not policy.can_view_document(session, actor, document):
        raise NotFound(f"notice {document_id} does not exist")
    return document


def notice_deliveries(session: Session, actor: User, document_id: int) -> Sequence[NoticeDelivery]:
    """The deliveries of one notice the actor may read, in order of delivery."""
    document = visible_notice(session, actor, document_id)
    return session.scalars(select(NoticeDelivery).where(NoticeDelivery.document_id == document.id)
                           .order_by(NoticeDelivery.delivered_at, NoticeDelivery.id)).all()


# --- what a holder's notice says about its addressee -------------------------------------------

def _addressee(session: Session, task: HumanTask, step_data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The holders a notice is addressed to: the one its mechanism named (`holder_id` on a form
    of the instance), else every holder of the case."""
    named = None
    for result in session.scalars(select(HumanTask.result).where(
            HumanTask.instance_id == task.instance_id, HumanTask.state == HumanTaskState.COMPLETED)):
        if isinstance(result, dict) and result.get("holder_id") is not None:
            named = result["holder_id"]
    query = select(RightsHolder).where(RightsHolder.case_id == task.case_id).order_by(RightsHolder.id)
    if named is not None:
        query = query.where(RightsHolder.id == named)
    holders = session.scalars(query).all()
    return {"holders": [{"id": h.id, "name": h.name, "representative": h.representative, "agent": h.agent}
                        for h in holders]}


documents.CONTENT_BUILDERS.update(dict.fromkeys(NOTICE_KINDS, _addressee))
