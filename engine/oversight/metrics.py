"""What supervisors read: work about to fall due, where each instance stands, how long steps
took, and audited exports. Read-only except for the export audit events.

Overdue work itself is `engine.supervision.overdue_tasks` (shared with the JSON API); the rows
here follow the same scope rules (`policy.supervised_agency_ids`). Nothing here returns task
results or case facts: supervisors see timelines and deadlines, not content.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.access import audit, policy
from engine.errors import Forbidden, NotFound
from engine.oversight.case_reads import case_timeline
from engine.oversight.queries import Page
from engine.oversight.supervision import supervised
from engine.runtime.instances import load
from engine.runtime.spiff import pruned_bpmn_ids
from engine.runtime.transactions import transactional
from engine.time.calendar_store import business_calendar
from engine.time.clock import now
from models import (
    Agency,
    AuditEvent,
    Case,
    HumanTask,
    HumanTaskState,
    InstanceStatus,
    ProcessInstance,
    ProcessModel,
    Timer,
    User,
)

# Detail keys an export leaves out: workflow variables may carry free-text reasons (content).
CONTENT_KEYS = ("variables",)
# Which mark wins when one diagram element ran several times (loops, repeated escalations).
_RANK = {"completed": 0, "active": 1, "overdue": 2, "error": 3}


def _scope(user: User) -> set[int] | None:
    scope = policy.supervised_agency_ids(user)
    if scope is not None and not scope:
        raise Forbidden("only supervisors and agency heads follow deadlines")
    return scope


def due_soon_cutoff(session: Session) -> datetime:
    """The end of the next working day (business calendar): what falls due before it is "soon"."""
    return business_calendar(session).due(now(session), "1wd").at


def due_soon_tasks(
    session: Session, user: User, agency: str | None = None, mechanism: str | None = None,
    case_id: int | None = None, page: int = 1, per_page: int = 20,
) -> Page[HumanTask]:
    """Open tasks not yet overdue that fall due within one working day, soonest first.

    Same scope and filters as `engine.supervision.overdue_tasks` (Forbidden outside them).
    """
    at = now(session)
    query = select(HumanTask).where(HumanTask.state == HumanTaskState.OPEN, HumanTask.due_at >= at,
                                    HumanTask.due_at <= due_soon_cutoff(session))
    query = supervised(session, query, _scope(user), agency, mechanism, case_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    rows = session.scalars(
        query.options(selectinload(HumanTask.case), selectinload(HumanTask.assignee),
                      selectinload(HumanTask.instance))
        .order_by(HumanTask.due_at, HumanTask.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(rows, total, page, per_page)


def supervised_case(session: Session, user: User, case_id: int) -> Case:
    """The case if the user may follow it: Forbidden for non-supervisors, NotFound for a case
    out of their scope (its existence is not revealed)."""
    _scope(user)
    case = session.get(Case, case_id)
    if case is None or not policy.can_supervise_case(session, user, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def element_states(session: Session, instance: ProcessInstance) -> dict[str, str]:
    """{BPMN element id: completed | active | overdue | error} for every pool of the instance.

    Completed and running steps come from the stored workflow state (so gateways, events and
    script steps show too, and the steps whose finished tasks engine/runtime/history.py dropped), overdue
    from open human tasks past their due time, error from the instance's recorded failure.
    Elements not reached are left out.
    """
    states: dict[str, str] = {}

    def mark(bpmn_id: str | None, state: str) -> None:
        if bpmn_id and _RANK[state] >= _RANK.get(states.get(bpmn_id, "completed"), 0):
            states[bpmn_id] = state

    workflow = load(session, instance)
    for pruned in pruned_bpmn_ids(workflow):
        mark(pruned, "completed")
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if task.has_state(TaskState.COMPLETED):
            mark(bpmn_id, "completed")
        elif task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            mark(bpmn_id, "active")
        elif task.has_state(TaskState.ERROR):
            mark(bpmn_id, "error")
    at = now(session)
    for task in session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.state == HumanTaskState.OPEN, HumanTask.due_at < at)):
        mark(task.bpmn_id, "overdue")
    if instance.status == InstanceStatus.ERROR and instance.error:
        mark(instance.error.get("bpmn_id"), "error")
    return states


@dataclass
class StepSample:
    """One step (diagram task) of one mechanism in one agency, over a period: the hours each
    completion took from creation, and how many of those with a due time met it."""

    agency: Agency
    mechanism: str
    bpmn_id: str
    title: str
    hours: list[float] = field(default_factory=list)
    with_due: int = 0
    on_time: int = 0


def step_samples(session: Session, user: User, start: datetime, end: datetime) -> list[StepSample]:
    """Tasks completed in [start, end) in the user's scope, grouped by agency, mechanism and step.

    Raw hours are returned rather than medians: the pages compute percentiles with the same
    function that draws them (web/svg/charts.py). On time means completed at or before due.
    """
    scope = _scope(user)
    query = (select(HumanTask, ProcessModel.key)
             .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
             .join(ProcessModel, ProcessInstance.process_model_id == ProcessModel.id)
             .where(HumanTask.state == HumanTaskState.COMPLETED, HumanTask.completed_at >= start,
                    HumanTask.completed_at < end)
             .order_by(HumanTask.agency_id, ProcessModel.key, HumanTask.bpmn_id, HumanTask.id))
    if scope is not None:
        query = query.where(HumanTask.agency_id.in_(scope))
    groups: dict[tuple[int, str, str], StepSample] = {}
    for task, key in session.execute(query):
        completed_at = task.completed_at
        assert completed_at is not None  # the query selects completed tasks only
        sample = groups.setdefault((task.agency_id, key, task.bpmn_id),
                                   StepSample(task.agency, key, task.bpmn_id, task.title))
        sample.hours.append((completed_at - task.created_at).total_seconds() / 3600)
        if task.due_at is not None:
            sample.with_due += 1
            sample.on_time += completed_at <= task.due_at
    return list(groups.values())


@dataclass(frozen=True)
class TimelineExport:
    case: Case
    events: Sequence[AuditEvent]
    task_titles: dict[int, str]


def export_detail(event: AuditEvent) -> dict[str, Any]:
    """An audit event's detail without content (workflow variables), for supervisors."""
    return {k: v for k, v in (event.detail or {}).items() if k not in CONTENT_KEYS}


@transactional
def export_case_timeline(session: Session, actor: User, case_id: int) -> TimelineExport:
    """A case's audit timeline for download; one transaction that records `timeline_exported`
    on the case's chain (after the exported events, which it does not include)."""
    case = supervised_case(session, actor, case_id)
    events = list(case_timeline(session, case))
    titles = {row.id: row.title for row in session.execute(
        select(HumanTask.id, HumanTask.title).where(HumanTask.case_id == case.id))}
    audit.record(session, "timeline_exported", actor=actor, case_id=case.id,
                 detail={"events": len(events)})
    return TimelineExport(case, events, titles)


@transactional
def record_overdue_export(session: Session, actor: User, filters: dict[str, Any], rows: int) -> None:
    """Audit a download of the overdue list (system chain: it spans cases)."""
    _scope(actor)
    audit.record(session, "overdue_list_exported", actor=actor,
                 detail={"filters": {k: v for k, v in filters.items() if v is not None}, "rows": rows})


def case_id_by_number(session: Session, number: str) -> int | None:
    """The id of the case numbered `number` (as printed, e.g. LD2026-00001), if there is one."""
    return session.scalar(select(Case.id).where(Case.number == number.strip()))


def mechanisms(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every deployed mechanism, by key; the newest version names it."""
    # By id, so that a later version's name replaces an earlier one's.
    names = dict(session.execute(select(ProcessModel.key, ProcessModel.name).order_by(ProcessModel.id)).all())
    return sorted(names.items())


def case_timers(session: Session, case: Case) -> Sequence[Timer]:
    """The case's timers (pending, fired, cancelled), by due time, for the supervision page."""
    return session.scalars(select(Timer).where(Timer.case_id == case.id).order_by(Timer.due_at, Timer.id)).all()
