"""Firing due timers exactly once: the worker takes the `timer` rows whose time has come (each
step keeps them in line with its waiting timer events: engine/runtime/timer_rows.py) and runs the
instances' steps. SpiffWorkflow's own wall-clock check is held off (engine/runtime/spiff.py) until
the engine marks a timer due.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine.access import audit
from engine.errors import StaleState
from engine.runtime.instances import advance, load, lock_instance
from engine.runtime.open_work import step_of, with_open_work
from engine.runtime.spiff import mark_timer_due
from engine.runtime.step import Step
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import InstanceStatus, ProcessInstance, Timer, TimerStatus

log = logging.getLogger(__name__)
# Timers fired in one transaction by a worker pass. Each costs a few statements of its own; the
# batch shares the taking, the locks, the chain heads and the commit.
BATCH = 20


def fire_due_timers(session: Session, limit: int = 100, batch: int = BATCH) -> int:
    """Fire up to `limit` due timers, `batch` of them per transaction; return how many fired."""
    fired = taken = 0
    while taken < limit:
        outcome = fire_batch(session, min(batch, limit - taken))
        if outcome is None:
            break
        taken, fired = taken + outcome[0], fired + outcome[1]
    return fired


def fire_batch(session: Session, size: int) -> tuple[int, int] | None:
    """Take up to `size` due timers and fire them in one transaction: (taken, fired), or None if
    none is due.

    The rows are taken with FOR UPDATE SKIP LOCKED on PostgreSQL, so parallel workers take
    different timers (SQLite's BEGIN IMMEDIATE makes the whole transaction exclusive). A timer
    whose script fails does not raise: its instance is saved in the `error` state like any
    step's. If anything raises (a lost race, a deadlock between workers, a bug), the batch is
    rolled back and its timers are fired again one transaction each, so one timer's trouble
    costs the others nothing; every row is re-checked as it is taken again, so none fires twice.
    """
    if size <= 1:
        outcome = fire_next(session)
        return None if outcome is None else (1, outcome)
    ids: list[int] = []
    try:
        with transaction(session):
            rows = _take_due(session, size)
            if not rows:
                session.rollback()  # an empty poll ends as it always has: nothing to commit
                return None
            ids = [row.id for row in rows]
            return len(ids), _fire_together(session, rows)
    except Exception:
        if not ids:  # taking the rows failed: nothing to fire one by one
            raise
        log.warning("firing %d timers together failed; firing them one by one", len(ids), exc_info=True)
    return len(ids), _fire_each(session, ids)


def _take_due(session: Session, size: int) -> Sequence[Timer]:
    return session.scalars(
        select(Timer).where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now(session))
        .order_by(Timer.due_at, Timer.id).limit(size).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()


def _fire_together(session: Session, rows: Sequence[Timer]) -> int:
    """Fire taken timers in the caller's transaction.

    Their instances and chain heads are locked first, each set in one statement and in id/name
    order, so workers with overlapping batches wait for each other instead of deadlocking. Then
    every timer is marked fired (one flush writes all the rows and `timer_fired` events) before
    each instance takes its step. A second timer of an instance already in the batch fires after
    that step, from the state it left.
    """

    rows = sorted(rows, key=lambda row: (row.case_id, row.instance_id, row.due_at, row.id))
    steps = _lock_instances(session, {row.instance_id for row in rows})
    audit.lock_chains(session, {step.instance.case_id for step in steps.values()})
    first: list[Timer] = []
    again: list[Timer] = []
    taken: set[int] = set()
    for row in rows:
        (again if row.instance_id in taken else first).append(row)
        taken.add(row.instance_id)
    marked = [(steps[row.instance_id], _mark_fired(session, row, steps[row.instance_id].instance)) for row in first]
    for step, workflow in marked:
        if workflow is not None:
            # Written together at the commit: one statement per table for the whole batch.
            advance(step, workflow, None, flush=False)
    fired = sum(workflow is not None for _, workflow in marked)
    return fired + sum(_fire(steps[row.instance_id].again(), row) for row in again)


def _lock_instances(session: Session, ids: set[int]) -> dict[int, Step]:
    """instances.lock_instance for several at once: their latest state and open work, row locks
    held until the transaction ends, taken in id order; the context of each one's step."""
    found = session.execute(with_open_work(
        select(ProcessInstance).where(ProcessInstance.id.in_(sorted(ids))).order_by(ProcessInstance.id)
        .options(undefer(ProcessInstance.state_json)).with_for_update(of=ProcessInstance).execution_options(populate_existing=True)))
    return {instance.id: step_of(session, instance, *open_work) for instance, *open_work in found}


def _fire_each(session: Session, ids: Sequence[int]) -> int:
    """Fire these timers one transaction each (after a failed batch); the first error is raised
    once the others have had their turn."""
    fired, error = 0, None
    for timer_id in ids:
        try:
            fired += fire_next(session, timer_id) or 0
        except Exception as exc:
            log.exception("timer %d failed", timer_id)
            error = error or exc
    if error is not None:
        raise error
    return fired


def fire_next(session: Session, timer_id: int | None = None) -> int | None:
    """Take one due timer (the earliest, or the one with this id) and fire it in its own
    transaction: 1 fired, 0 skipped (cancelled or raced), None if none due.

    The row is taken with FOR UPDATE SKIP LOCKED on PostgreSQL, so parallel workers take different
    timers; its status changes in the same transaction as the step the timer causes, so a worker
    that dies mid-way leaves it pending for the next one.
    """

    try:
        with transaction(session):
            query = select(Timer).where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now(session))
            if timer_id is not None:
                query = query.where(Timer.id == timer_id)
            row = session.scalar(query.order_by(Timer.due_at, Timer.id).limit(1).with_for_update(skip_locked=True))
            if row is None:
                session.rollback()  # an empty poll ends as it always has: nothing to commit
                return None
            return _fire(lock_instance(session, row.instance_id), row)
    except StaleState:
        return 0


def _fire(step: Step, row: Timer) -> int:
    """Fire one taken timer of a locked instance in the caller's transaction: 1 fired, 0 if the
    instance no longer waits on it (the row is cancelled)."""

    workflow = _mark_fired(step.session, row, step.instance)
    if workflow is None:
        return 0
    advance(step, workflow, None)
    return 1


def _mark_fired(session: Session, row: Timer, instance: ProcessInstance) -> BpmnWorkflow | None:
    """Mark a taken timer fired (row, `timer_fired` event, the waiting event due) and return the
    instance's workflow for its step; None, with the row cancelled, if the instance no longer
    waits on it."""

    workflow = load(session, instance)
    try:
        task = workflow.get_task_from_id(UUID(row.task_guid))
    except TaskNotFoundException:  # gone with finished history (engine/runtime/history.py)
        task = None
    if instance.status != InstanceStatus.RUNNING or task is None or not task.has_state(TaskState.WAITING):
        row.status = TimerStatus.CANCELLED
        return None
    # The due time goes into the event's data so a diagram can pass the missed deadline on in
    # an explicit message payload (docs/bpmn-conventions.md: `timer_due_at`).
    task.data["timer_due_at"] = row.due_at.isoformat()
    mark_timer_due(task)
    row.status, row.fired_at = TimerStatus.FIRED, now(session)
    audit.record(session, "timer_fired", case_id=row.case_id, instance_id=instance.id,
                 detail={"bpmn_id": row.bpmn_id, "rule": row.rule, "due_at": row.due_at.isoformat()})
    return workflow
