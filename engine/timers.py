"""Timers: rows for the timer events instances wait on, fired exactly once when due.

Due times come from the diagram's deadline rule and the business calendar, counted from when the
timer starts waiting, with the injectable clock; SpiffWorkflow's own wall-clock check is held off
(engine/spiff.py) until the engine marks a timer due.
"""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import ProcessInstance, Timer

from . import audit, clocks
from .calendar_store import business_calendar
from .clock import now
from .spiff import mark_timer_due


def waiting_timers(workflow: BpmnWorkflow) -> dict[str, object]:
    """The workflow's timer events that are waiting, by task id."""
    return {
        str(task.id): task
        for task in workflow.event_manager.tasks.values()
        if isinstance(task.task_spec.event_definition, TimerEventDefinition)
        and task.has_state(TaskState.WAITING)
    }


def sync_timers(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Make the instance's pending timer rows match its waiting timer events (caller's transaction)."""
    waiting = waiting_timers(workflow)
    rows = {
        row.task_guid: row
        for row in session.scalars(select(Timer).where(Timer.instance_id == instance.id))
    }
    at = now(session)
    for guid, row in rows.items():
        if row.status == "pending" and guid not in waiting:
            row.status = "cancelled"
    rules = instance.process_model.timer_rules or {}
    for guid, task in waiting.items():
        if guid in rows:
            continue
        rule = rules[task.task_spec.bpmn_id]
        # A timer may read its rule from a variable or count a stopped clock (engine/clocks.py);
        # the row keeps the rule its due time was counted with.
        due, rule = clocks.due_for(session, task, at) or (business_calendar(session).due(at, rule), rule)
        session.add(Timer(
            instance_id=instance.id, case_id=instance.case_id, task_guid=guid,
            bpmn_id=task.task_spec.bpmn_id, rule=rule, due_at=due.at, due_provisional=due.provisional,
            status="pending", created_at=at,
        ))
    session.flush()


def fire_due_timers(session: Session, limit: int = 100) -> int:
    """Fire up to `limit` due timers, each in its own transaction; return how many fired."""
    fired = 0
    for _ in range(limit):
        outcome = fire_next(session)
        if outcome is None:
            break
        fired += outcome
    return fired


def fire_next(session: Session) -> int | None:
    """Take one due timer and fire it: 1 fired, 0 skipped (cancelled or raced), None if none due.

    The row is taken with FOR UPDATE SKIP LOCKED on PostgreSQL, so parallel workers take different
    timers; its status changes in the same transaction as the step the timer causes, so a worker
    that dies mid-way leaves it pending for the next one.
    """
    from .instances import advance, load, lock_instance  # instances imports this module

    try:
        row = session.scalar(
            select(Timer).where(Timer.status == "pending", Timer.due_at <= now(session))
            .order_by(Timer.due_at, Timer.id).limit(1).with_for_update(skip_locked=True)
        )
        if row is None:
            session.rollback()
            return None
        instance = lock_instance(session, row.instance_id)
        workflow = load(session, instance)
        task = workflow.get_task_from_id(UUID(row.task_guid))
        if instance.status != "running" or task is None or not task.has_state(TaskState.WAITING):
            row.status = "cancelled"
            session.commit()
            return 0
        # The due time goes into the event's data so a diagram can pass the missed deadline on in
        # an explicit message payload (workflows/README.md: `timer_due_at`).
        task.data["timer_due_at"] = row.due_at.isoformat()
        mark_timer_due(task)
        row.status, row.fired_at = "fired", now(session)
        audit.record(session, "timer_fired", case_id=row.case_id, instance_id=instance.id,
                     detail={"bpmn_id": row.bpmn_id, "rule": row.rule, "due_at": row.due_at.isoformat()})
        advance(session, instance, workflow, None)
        session.commit()
        return 1
    except StaleDataError:
        session.rollback()
        return 0
    except BaseException:
        session.rollback()
        raise
