"""Timer rows: one `timer` row for each timer event an instance waits on, kept in step with the
workflow by every step (the worker fires them when due: engine/worker/timers.py).

Due times come from the diagram's deadline rule and the business calendar, counted from when the
timer starts waiting, with the injectable clock.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.runtime.definitions import definition
from engine.runtime.sql import insert_new_rows
from engine.runtime.step import OpenWork, Step
from engine.time import task_due as clocks
from engine.time.clock import now
from models import Timer, TimerStatus


def waiting_timers(workflow: BpmnWorkflow) -> dict[str, SpiffTask]:
    """The workflow's timer events that are waiting, by task id."""
    return {
        str(task.id): task
        for task in workflow.event_manager.tasks.values()
        if isinstance(task.task_spec.event_definition, TimerEventDefinition)
        and task.has_state(TaskState.WAITING)
    }


def sync_timers(step: Step, workflow: BpmnWorkflow, open_work: OpenWork | None, flush: bool = True) -> None:
    """Make the instance's pending timer rows match its waiting timer events (caller's transaction).

    Only pending rows are read (an index holds them, or the instance's lock read them:
    engine/runtime/open_work.py): fired and cancelled ones are history, and a long case's history must not
    make each step slower."""
    session, instance = step.session, step.instance
    waiting = waiting_timers(workflow)
    pending = open_work.timers if open_work is not None else _pending_timers(session, instance.id)
    at = now(session)
    _cancel(session, [row_id for guid, row_id in pending.items() if guid not in waiting])
    new = [guid for guid in waiting if guid not in pending]
    rules = definition(session, instance.process_model_id).timer_rules
    rows = []
    for guid in new:
        task = waiting[guid]
        rule = rules[task.task_spec.bpmn_id]
        # A timer may read its rule from a variable or count a stopped clock (engine/time/task_due.py);
        # the row keeps the rule its due time was counted with.
        found = clocks.due_for(step, task, at)
        due, rule = (found.due, found.rule) if found else (step.calendar.due(at, rule), rule)
        rows.append({"instance_id": instance.id, "case_id": instance.case_id, "task_guid": guid,
                     "bpmn_id": task.task_spec.bpmn_id, "rule": rule, "due_at": due.at,
                     "due_provisional": due.provisional, "status": TimerStatus.PENDING, "created_at": at})
    if rows:
        # (instance, task) is unique: an event waiting again after its timer fired or was
        # cancelled (a retried step) keeps the row it had. Without autoflush: new rows depend on
        # nothing the step changed, and the step's own rows are written together at its end
        # (a completion's in one statement, engine/runtime/step_write.py).
        with session.no_autoflush:
            insert_new_rows(session, Timer, rows)
    if flush:
        session.flush()


def _cancel(session: Session, row_ids: list[int]) -> None:
    """Cancel these pending timer rows, except those fired in this transaction (their event is not
    waiting any more either): the ones this session holds in memory, the others by one UPDATE."""
    others = []
    for row_id in row_ids:
        held = session.identity_map.get(identity_key(Timer, row_id))
        if held is None:
            others.append(row_id)
        elif held.status == TimerStatus.PENDING:
            held.status = TimerStatus.CANCELLED
    if others:
        session.execute(update(Timer).where(Timer.id.in_(others), Timer.status == TimerStatus.PENDING)
                        .values(status=TimerStatus.CANCELLED).execution_options(synchronize_session=False))


def _pending_timers(session: Session, instance_id: int) -> dict[str, int]:
    """{task id: row id} of the instance's pending timer rows, when the step's lock did not read
    them (engine/runtime/open_work.py)."""
    query = select(Timer.task_guid, Timer.id).where(
        Timer.instance_id == instance_id, Timer.status == TimerStatus.PENDING)
    return dict(session.execute(query).all())
