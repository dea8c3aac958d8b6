"""What the rows say an instance has open: its open task rows, its pending timers, and the
agencies taking part in its case; and the days an administrator entered in the business calendar.

Every step compares its workflow with the first three (engine/runtime/projection.py: task rows and
participants, engine/runtime/timer_rows.py: timer rows) and counts its deadlines with the calendar
(engine/time/calendar_store.py), so they are read with the statement that locks the instance, as four
columns of small JSON arrays, instead of a query each after it. The step takes them from the
transaction's read-ahead (engine/runtime/transactions.py); a second step of the same instance in one
transaction finds them taken and queries, since the first step may have changed them.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, literal_column, select
from sqlalchemy.orm import Session

from models import CalendarDay, CaseParticipant, HumanTask, ProcessInstance, Timer

from engine.time.calendar_store import remember_entered_days
from engine.runtime.sql import json_rows
from engine.runtime.transactions import read_ahead

OPEN_TASKS, PENDING_TIMERS, CASE_AGENCIES = "open_task_rows", "pending_timers", "case_agencies"
ENTERED_DAYS = select(json_rows(CalendarDay.day, CalendarDay.working))


def with_open_work(query: Select) -> Select:
    """`query`, which selects ProcessInstance, with the instance's open work and the entered
    calendar days as four more columns; pass each result row's last four values to
    `remember_read`."""
    # The states as literals, not parameters: the indexes that serve these reads are partial
    # (state = 'open', status = 'pending'), and a prepared statement's generic plan could not
    # prove that a parameter matches them.
    open_tasks = (select(json_rows(HumanTask.task_guid, HumanTask.id))
                  .where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == literal_column("'open'")))
    pending = (select(json_rows(Timer.task_guid, Timer.id))
               .where(Timer.instance_id == ProcessInstance.id, Timer.status == literal_column("'pending'")))
    agencies = select(json_rows(CaseParticipant.agency_id)).where(CaseParticipant.case_id == ProcessInstance.case_id)
    # Correlated to the instance only: `query` may select from human_task itself.
    return query.add_columns(*(column.correlate(ProcessInstance).scalar_subquery()
                               for column in (open_tasks, pending, agencies)), ENTERED_DAYS.scalar_subquery())


def remember(session: Session, instance_id: int, open_tasks: dict[str, int], pending_timers: dict[str, int],
             case_agencies: set[int] | None) -> None:
    """Keep one instance's open work for its step in this transaction: {task id: row id} of its
    open task rows and of its pending timers, and the ids of the agencies taking part in its case
    (None: not known, the step makes sure of each agency it reaches)."""
    read_ahead(session, OPEN_TASKS, {instance_id: open_tasks})
    read_ahead(session, PENDING_TIMERS, {instance_id: pending_timers})
    if case_agencies is not None:
        read_ahead(session, CASE_AGENCIES, {instance_id: case_agencies})


def remember_read(session: Session, instance_id: int, open_tasks, pending_timers, case_agencies,
                  entered_days) -> None:
    """`remember` what a `with_open_work` statement read (the last four values of its row), and
    keep the calendar's entered days for this transaction."""
    remember(session, instance_id, {guid: row_id for guid, row_id in open_tasks},
             {guid: row_id for guid, row_id in pending_timers}, {agency_id for (agency_id,) in case_agencies})
    remember_entered_days(session, {date.fromisoformat(day): bool(working) for day, working in entered_days})
