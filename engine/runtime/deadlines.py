"""Moving the due time of an open task: a period extended while the task runs.

The police head extends the period for deciding on a transferred case from 3 days to 10, or to 30
for a complex case, while the decision task stays open. An extension of a catalog rule
(workflows/deadlines.toml) must be one the rule allows, and is counted from the same legal event
as the rule (the police's acceptance of the case, DOMAIN.md §1.6), not from when the task opened.
The task row and every pending timer attached to the task (its escalation) move together, in the
caller's transaction, with a `deadline_extended` audit event naming the old and new due times.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.errors import Conflict
from engine.runtime.definitions import definition
from engine.runtime.instances import load
from engine.time.calendar import BusinessCalendar, Due, parse_rule
from engine.time.calendar_store import business_calendar
from models import HumanTask, HumanTaskState, Timer, TimerStatus, User


def extended_due(session: Session, calendar: BusinessCalendar, task: HumanTask, rule: str) -> Due:
    """The due time of `task` under the period `rule`, counted from the legal event the task's
    catalog rule runs from (`deadline_trigger_at`), or from when the task opened when its rule
    runs from the task or is a literal. ValueError: `rule` is not a period, or not one the task's
    catalog rule allows (its own period or one of its extensions)."""
    parse_rule(rule)
    if task.deadline_rule_id:
        rules = definition(session, task.instance.process_model_id).period_rules
        catalog_rule = rules.get(task.deadline_rule_id)
        if catalog_rule is None:
            raise ValueError(f"rule {task.deadline_rule_id} is not among the rules of the task's process model")
        if not catalog_rule.allows(rule):
            allowed = ", ".join([catalog_rule.period, *(e.period for e in catalog_rule.extensions)])
            raise ValueError(f"{rule} is not a period rule {catalog_rule.id} allows ({allowed})")
    return calendar.due(task.deadline_trigger_at or task.created_at, rule)


def extend_open_task(session: Session, actor: User | None, task: HumanTask, rule: str, reason: str,
                     calendar: BusinessCalendar | None = None) -> Due:
    """Count the open task's period anew with `rule` (see `extended_due`: from the legal event,
    within what the rule allows); move its due time and its attached pending timers there; audit
    it. Caller's transaction; Conflict if the task is not open, ValueError if `rule` is not a
    period the task may take. `calendar`: the one the caller's step counts with (else read now)."""
    if task.state != HumanTaskState.OPEN:
        raise Conflict(f"task {task.id} is {task.state}: its deadline can no longer change")
    due = extended_due(session, calendar or business_calendar(session), task, rule)
    before = task.due_at
    task.due_at, task.deadline_rule, task.due_provisional = due.at, rule, due.provisional
    moved = []
    for timer in _attached_timers(session, task):
        timer.due_at, timer.rule, timer.due_provisional = due.at, rule, due.provisional
        moved.append(timer.bpmn_id)
    session.flush()
    audit.record(session, "deadline_extended", actor=actor, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"bpmn_id": task.bpmn_id, "rule": rule, "rule_id": task.deadline_rule_id,
                         "counted_from": _iso(task.deadline_trigger_at or task.created_at), "reason": reason,
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
