"""The shared case register (DOMAIN §4): transfers, filing decisions, supervisions and penalty
cases across agencies, in one list with each row's state and key dates.

A row is either a run of a mechanism (a process instance of 立案协助, 立案监督 or 行政处罚信息共享)
or a police filing decision (a completed task that decides 立案 / 不予立案). A row's state is
derived, never stored: the milestones of `MILESTONES` that the instance has reached (a completed
task or an issued document, named by BPMN id or document kind), the last one reached winning,
else the instance's status. The page is read in a constant number of statements whatever its
length: one count, one page of rows (state, key date and trigger computed in SQL, so filters and
ordering apply to them), and one each for the page's milestone tasks and documents.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from engine.access import policy
from engine.errors import InvalidInput
from engine.oversight.queries import Page
from models import (
    Agency,
    Case,
    CaseParticipant,
    CaseResult,
    Document,
    HumanTask,
    HumanTaskState,
    InstanceStatus,
    Message,
    ProcessInstance,
    ProcessModel,
    User,
)


@dataclass(frozen=True)
class Milestone:
    """A state a row reaches when its instance completed task `task` or issued document `document`."""

    state: str
    task: str | None = None
    document: str | None = None


@dataclass(frozen=True)
class Mechanism:
    key: str | None  # process model key; None for filing decisions, which are task rows
    parties: tuple[str, ...]  # agency codes, sender first
    milestones: tuple[Milestone, ...]  # in the order they are reached; the last reached wins
    key_milestone: str | None = None  # whose date is the row's key date (else when it started)


# Which completed tasks and issued documents mark each mechanism's progress (workflows/*.bpmn,
# engine/casework/documents.py). A sent transfer is its letter: the liaison's task also
# completes when the handoff is sent back.
MECHANISMS: dict[str, Mechanism] = {
    "transfer": Mechanism("case_transfer", ("samr", "police"), (
        Milestone("sent", document="transfer_letter"),
        Milestone("received", task="accept_receipt"),
        Milestone("forwarded", task="accept_forwarding_notice"),
        Milestone("filed", document="filing_notice"),
        Milestone("not_filed", document="non_filing_notice"),
        Milestone("reconsidered", document="reconsideration_decision"),
        Milestone("returned", task="record_administrative_penalty"),
        Milestone("handed_over", task="accept_handover_confirmation"),
    ), "sent"),
    "filing": Mechanism(None, ("police", "samr"), ()),
    "supervision": Mechanism("filing_supervision", ("procuratorate", "police"), (
        Milestone("examined", task="examine_supervision"),
        Milestone("explanation_requested", document="explain_request"),
        Milestone("explanation_received", task="receive_explanation"),
        Milestone("filing_ordered", document="filing_order"),
        Milestone("filed", task="receive_filing_report"),
    )),
    "penalty": Mechanism("penalty_disclosure", ("samr", "police", "procuratorate"), (
        Milestone("decided", task="record_penalty_decision"),
        Milestone("copied", document="penalty_decision_copy"),
        Milestone("published", task="publish_penalty_information"),
        Milestone("withdrawn", task="withdraw_penalty_information"),
    ), "decided"),
}
# The police decisions on filing: the head's decision on a transfer (its `filing_decision`) and
# filing on the procuratorate's notice (always 立案).
FILING_TASKS = ("decide_filing", "file_on_notice")
FILING_STATES = ("filed", "not_filed")
# A row whose instance ended or stopped without reaching a milestone.
END_STATES = ("open", "closed", InstanceStatus.CANCELLED.value, InstanceStatus.ERROR.value)
STATES = tuple(dict.fromkeys(
    [m.state for mech in MECHANISMS.values() for m in mech.milestones] + list(FILING_STATES) + list(END_STATES)))
# The message that starts a supervision from 立案协助 carries what prompted it.
SUPERVISION_REQUEST = "filing_supervision_requested"


@dataclass(frozen=True)
class RegisterFilter:
    """`mechanism` one of MECHANISMS, `state` one of STATES, key date in [since, until), `agency` a code."""

    mechanism: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    agency: str | None = None


@dataclass
class RegisterRow:
    mechanism: str
    case_id: int
    case_number: str
    # None when the reader may not see it (a secret case's title, for overseers).
    case_title: str | None
    instance_id: int
    task_id: int | None
    state: str
    status: str  # the instance's status
    key_date: datetime
    started_at: datetime
    parties: tuple[str, ...]
    trigger: str | None = None  # supervisions: samr_request | review_overdue | prosecutor
    # Milestone state -> when it was first reached.
    dates: dict[str, datetime] = field(default_factory=dict)
    # Filing decisions: the police's notice; other rows: the mechanism's documents by kind.
    document_number: str | None = None
    documents: dict[str, str] = field(default_factory=dict)
    # The case's latest result after filing (models.RESULT_STAGES, RESULT_OUTCOMES), if any.
    result_stage: str | None = None
    result_outcome: str | None = None

    @property
    def outcome(self) -> str | None:
        """Where an ended run got to: its state once the instance is no longer running."""
        return self.state if self.status != InstanceStatus.RUNNING else None


def _reached(milestone: Milestone, instance_id: Any):
    if milestone.document is not None:
        return exists().where(Document.instance_id == instance_id, Document.kind == milestone.document)
    return exists().where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == milestone.task,
                          HumanTask.state == HumanTaskState.COMPLETED)


def _milestone_date(milestone: Milestone, instance_id: Any):
    if milestone.document is not None:
        return (select(func.min(Document.generated_at))
                .where(Document.instance_id == instance_id, Document.kind == milestone.document).scalar_subquery())
    return (select(func.min(HumanTask.completed_at))
            .where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == milestone.task,
                   HumanTask.state == HumanTaskState.COMPLETED).scalar_subquery())


def _instance_rows():
    """One row per instance of a registered mechanism, its state and key date computed in SQL."""
    pi = ProcessInstance
    keyed = {name: m for name, m in MECHANISMS.items() if m.key is not None}
    kind = case({m.key: literal(name) for name, m in keyed.items()}, value=ProcessModel.key)
    whens: list[tuple[Any, Any]] = [(pi.status.in_([InstanceStatus.CANCELLED, InstanceStatus.ERROR]), pi.status)]
    key_dates: list[tuple[Any, Any]] = []
    for m in keyed.values():
        whens.extend((and_(ProcessModel.key == m.key, _reached(milestone, pi.id)), literal(milestone.state))
                     for milestone in reversed(m.milestones))
        if m.key_milestone:
            chosen = next(x for x in m.milestones if x.state == m.key_milestone)
            key_dates.append((ProcessModel.key == m.key, func.coalesce(_milestone_date(chosen, pi.id), pi.started_at)))
    whens.append((pi.status == InstanceStatus.COMPLETED, literal("closed")))
    trigger = (select(Message.payload["supervision_trigger"].as_string())
               .where(Message.target_instance_id == pi.id, Message.name == SUPERVISION_REQUEST)
               .limit(1).scalar_subquery())
    return (
        select(kind.label("mechanism"), pi.case_id.label("case_id"), pi.id.label("instance_id"),
               null().label("task_id"), case(*whens, else_=literal("open")).label("state"),
               pi.status.label("status"), case(*key_dates, else_=pi.started_at).label("key_date"),
               pi.started_at.label("started_at"),
               case((ProcessModel.key == MECHANISMS["supervision"].key,
                     func.coalesce(trigger, literal("prosecutor"))), else_=null()).label("trigger"))
        .join(ProcessModel, ProcessModel.id == pi.process_model_id)
        .where(ProcessModel.key.in_([m.key for m in keyed.values()]))
    )


def _filing_rows():
    """One row per police filing decision."""
    decision = HumanTask.result["filing_decision"].as_string()
    state = case((and_(HumanTask.bpmn_id == "decide_filing", decision == "not_file"), literal("not_filed")),
                 else_=literal("filed"))
    return (
        select(literal("filing").label("mechanism"), HumanTask.case_id.label("case_id"),
               HumanTask.instance_id.label("instance_id"), HumanTask.id.label("task_id"), state.label("state"),
               ProcessInstance.status.label("status"), HumanTask.completed_at.label("key_date"),
               ProcessInstance.started_at.label("started_at"), null().label("trigger"))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.bpmn_id.in_(FILING_TASKS), HumanTask.state == HumanTaskState.COMPLETED)
    )


def _latest_result(case_id: Any):
    """The stage and outcome of the case's most recently recorded result, as two columns."""
    def newest(column):
        return (select(column).where(CaseResult.case_id == case_id)
                .order_by(CaseResult.recorded_at.desc(), CaseResult.id.desc()).limit(1).scalar_subquery())

    return newest(CaseResult.stage).label("result_stage"), newest(CaseResult.outcome).label("result_outcome")


def check_filter(filters: RegisterFilter) -> None:
    """InvalidInput naming the field of a filter value the register does not know."""
    if filters.mechanism is not None and filters.mechanism not in MECHANISMS:
        raise InvalidInput("mechanism: unknown value",
                           {"mechanism": [f"unknown mechanism '{filters.mechanism}' (known: {', '.join(MECHANISMS)})"]})
    if filters.state is not None and filters.state not in STATES:
        raise InvalidInput("state: unknown value",
                           {"state": [f"unknown state '{filters.state}' (known: {', '.join(STATES)})"]})
    if filters.since and filters.until and filters.since >= filters.until:
        raise InvalidInput("until: the period must end after it starts",
                           {"until": ["the period must end after it starts"]})


def register_page(session: Session, user: User, filters: RegisterFilter = RegisterFilter(),
                  page: int = 1, per_page: int = 20) -> Page[RegisterRow]:
    """The register rows `user` may see (`policy.register_scope`), newest key date first, one page.

    Four statements whatever the page's length: count, rows, their milestone tasks, their
    documents. Nothing is written."""
    check_filter(filters)
    scope = policy.register_scope(user)
    rows = union_all(_instance_rows(), _filing_rows()).subquery("register_row")
    query = (select(rows, Case.number, Case.title, Case.confidentiality, *_latest_result(rows.c.case_id))
             .join(Case, Case.id == rows.c.case_id))
    if scope.cases is not None:
        query = query.where(scope.cases)
    if filters.mechanism:
        query = query.where(rows.c.mechanism == filters.mechanism)
    if filters.state:
        query = query.where(rows.c.state == filters.state)
    if filters.since:
        query = query.where(rows.c.key_date >= filters.since)
    if filters.until:
        query = query.where(rows.c.key_date < filters.until)
    if filters.agency:
        query = query.where(exists().where(
            CaseParticipant.case_id == rows.c.case_id, CaseParticipant.agency_id == Agency.id,
            Agency.code == filters.agency))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    found = session.execute(
        query.order_by(rows.c.key_date.desc(), rows.c.case_id.desc(), rows.c.instance_id.desc(),
                       rows.c.task_id.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    items = [RegisterRow(
        mechanism=r.mechanism, case_id=r.case_id, case_number=r.number,
        case_title=r.title if scope.secret_titles or r.confidentiality != "secret" else None,
        instance_id=r.instance_id, task_id=r.task_id, state=r.state, status=r.status,
        key_date=r.key_date, started_at=r.started_at, parties=MECHANISMS[r.mechanism].parties,
        trigger=r.trigger, result_stage=r.result_stage, result_outcome=r.result_outcome,
    ) for r in found]
    _add_milestones(session, items)
    return Page(items, total, page, per_page)


def _add_milestones(session: Session, items: Sequence[RegisterRow]) -> None:
    """The dates of every milestone reached and the documents' numbers, for one page's rows."""
    instance_ids = {r.instance_id for r in items if r.task_id is None}
    task_ids = {r.task_id for r in items if r.task_id is not None}
    if not items:
        return
    kinds = {m.document for mech in MECHANISMS.values() for m in mech.milestones if m.document}
    tasks = {m.task for mech in MECHANISMS.values() for m in mech.milestones if m.task}
    reached_tasks: dict[tuple[int, str], datetime | None] = {}
    if instance_ids:
        for instance_id, bpmn_id, when in session.execute(
                select(HumanTask.instance_id, HumanTask.bpmn_id, func.min(HumanTask.completed_at))
                .where(HumanTask.instance_id.in_(instance_ids), HumanTask.bpmn_id.in_(tasks),
                       HumanTask.state == HumanTaskState.COMPLETED)
                .group_by(HumanTask.instance_id, HumanTask.bpmn_id)):
            reached_tasks[(instance_id, bpmn_id)] = when
    documents: dict[tuple[int, str], tuple[str, datetime]] = {}
    by_task: dict[int, str] = {}
    for instance_id, task_id, kind, number, when in session.execute(
            select(Document.instance_id, Document.task_id, Document.kind, Document.number, Document.generated_at)
            .where(or_(and_(Document.instance_id.in_(instance_ids), Document.kind.in_(kinds)),
                       and_(Document.task_id.in_(task_ids), Document.kind.in_(("filing_notice", "non_filing_notice")))))
            .order_by(Document.generated_at, Document.id)):
        documents.setdefault((instance_id, kind), (number, when))
        if task_id in task_ids:
            by_task[task_id] = number
    for row in items:
        if row.task_id is not None:
            row.document_number = by_task.get(row.task_id)
            row.dates[row.state] = row.key_date
            continue
        for milestone in MECHANISMS[row.mechanism].milestones:
            if milestone.document is not None and (row.instance_id, milestone.document) in documents:
                number, when = documents[(row.instance_id, milestone.document)]
                row.documents[milestone.document] = number
                row.dates[milestone.state] = when
            elif milestone.task is not None and reached_tasks.get((row.instance_id, milestone.task)):
                row.dates[milestone.state] = reached_tasks[(row.instance_id, milestone.task)]  # type: ignore[assignment]
