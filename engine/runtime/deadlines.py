"""Moving the due time of an open task: a period extended while the task runs.

The police head extends the review of a transferred case from 3 days to 10, or to 30 for a complex
case, counted from acceptance (DOMAIN.md §1.6), while the review task stays open. The task row and
every pending timer attached to the task (its escalation) move together, in the caller's
transaction, with a `deadline_extended` audit event naming the old and new due times.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.errors import Conflict
from engine.runtime.instances import load
from engine.time.calendar import BusinessCalendar, Due, parse_rule
from engine.time.calendar_store import business_calendar
from models import HumanTask, HumanTaskState, Timer, TimerStatus, User


def extended_due(calendar: BusinessCalendar, task: HumanTask, rule: str) -> Due:
    """The due time of `task` under `rule`, counted from when it opened (ValueError: not a rule)."""
    parse_rule(rule)
    return calendar.due(task.created_at, rule)


def extend_open_task(session: Session, actor: User | None, task: HumanTask, rule: str, reason: str,
                     calendar: BusinessCalendar | None = None) -> Due:
    """Count the open task's period anew with `rule` from when it opened; move its due time and
    its attached pending timers there; audit it. Caller's transaction; Conflict if the task is
    not open, ValueError if `rule` is not a deadline rule. `calendar`: the one the caller's step
    counts with (else read now)."""
    if task.state != HumanTaskState.OPEN:
        raise Conflict(f"task {task.id} is {task.state}: its deadline can no longer change")
    due = extended_due(calendar or business_calendar(session), task, rule)
    before = task.due_at
    task.due_at, task.deadline_rule, task.due_provisional = due.at, rule, due.provisional
    moved = []
    for timer in _attached_timers(session, task):
        timer.due_at, timer.rule, timer.due_provisional = due.at, rule, due.provisional
        moved.append(timer.bpmn_id)
    session.flush()
    audit.record(session, "deadline_extended", actor=actor, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"bpmn_id": task.bpmn_id, "rule": rule, "reason": reason,
                         "before": _iso(before), "after": _iso(due.at), "timers": moved})
    return due


def _attached_timers(session: Session, task: HumanTask) -> list[Timer]:
    """The pending timer rows of the boundary events on the task (its siblings in SpiffWorkflow's
    boundary-event split)."""
    workflow = load(session, task.instance)
    spiff_task = workflow.get_task_from_id(UUID(task.task_guid))
    if spiff_task is None or not isinstance(spiff_task.parent.task_spec, BoundaryEventSplit):
        return []
    guids = [str(t.id) for t in spiff_task.parent.children if t is not spiff_task]
    return list(session.scalars(select(Timer).where(
        Timer.instance_id == task.instance_id, Timer.status == TimerStatus.PENDING, Timer.task_guid.in_(guids))))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
