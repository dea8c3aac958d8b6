"""Reading an instance's open work with the statement that locks it: its open task rows, its
pending timers, the agencies taking part in its case, and the days an administrator entered in
the business calendar.

Every step compares its workflow with the first three (engine/runtime/projection.py: task rows
and participants, engine/runtime/timer_rows.py: timer rows) and counts its deadlines with the
calendar, so they are read as four more columns (small JSON arrays) of the locking statement,
instead of a query each after it, and handed to the step in its `Step` (engine/runtime/step.py).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, literal_column, select
from sqlalchemy.orm import Session

from engine.runtime.sql import json_rows
from engine.runtime.step import OpenWork, Step
from engine.time.calendar import BusinessCalendar
from models import CalendarDay, CaseParticipant, HumanTask, ProcessInstance, Timer

ENTERED_DAYS = select(json_rows(CalendarDay.day, CalendarDay.working))


def with_open_work(query: Select) -> Select:
    """`query`, which selects ProcessInstance, with the instance's open work and the entered
    calendar days as four more columns; pass each result row's last four values to `step_of`."""
    # The states as literals, not parameters: the indexes that serve these reads are partial
    # (state = 'open', status = 'pending'), and a prepared statement's generic plan could not
    # prove that a parameter matches them.
    open_tasks = (select(json_rows(HumanTask.task_guid, HumanTask.id))
                  .where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == literal_column("'open'")))
    pending = (select(json_rows(Timer.task_guid, Timer.id))
               .where(Timer.instance_id == ProcessInstance.id, Timer.status == literal_column("'pending'")))
    # Parties only: an observing agency that gets a task becomes a party (projection._join_case).
    agencies = select(json_rows(CaseParticipant.agency_id)).where(
        CaseParticipant.case_id == ProcessInstance.case_id, CaseParticipant.role == "party")
    # Correlated to the instance only: `query` may select from human_task itself.
    return query.add_columns(*(column.correlate(ProcessInstance).scalar_subquery()
                               for column in (open_tasks, pending, agencies)), ENTERED_DAYS.scalar_subquery())


def step_of(session: Session, instance: ProcessInstance, open_tasks: Any, pending_timers: Any, case_agencies: Any,
            entered_days: Any) -> Step:
    """The step context of a locked instance from what a `with_open_work` statement read (the
    last four values of its row)."""
    open_work = OpenWork(dict(open_tasks), dict(pending_timers),
                         {agency_id for (agency_id,) in case_agencies})
    calendar = BusinessCalendar(overrides={date.fromisoformat(day): bool(working) for day, working in entered_days})
    return Step(session, instance, open_work, calendar)
