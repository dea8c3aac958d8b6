"""Reading an instance's open work with the statement that locks it: its open task rows, its
pending timers, the agencies taking part in its case, and the days an administrator entered in
the business calendar.

Every step compares its workflow with the first three (engine/runtime/projection.py: task rows
and participants, engine/runtime/timer_rows.py: timer rows) and counts its deadlines with the
calendar, so they are read with the locking statement instead of a query each after it, and
handed to the step in its `Step` (engine/runtime/step.py). A fifth value is the case's audit
chain head, read without a lock, so that the commit can write the step's events with the head's
move in one statement (engine/access/audit.py expect_head). The five (small JSON arrays) come as
one more column, a JSON array of them: the driver and the ORM set up each result column of each
execution, and one column costs a fifth of five.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, String, cast, literal, literal_column, select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.runtime.sql import json_array, json_rows
from engine.runtime.step import OpenWork, Step
from engine.time.calendar import BusinessCalendar
from models import AuditChain, CalendarDay, CaseParticipant, HumanTask, ProcessInstance, Timer, case_chain

ENTERED_DAYS = select(json_rows(CalendarDay.day, CalendarDay.working))


def with_open_work(query: Select) -> Select:
    """`query`, which selects ProcessInstance, with the instance's open work, the entered
    calendar days and its case's audit chain head as one more column; pass each result row's
    last value to `step_of`."""
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
    # The case's audit chain head, read without a lock: the commit appends the step's events
    # after it in one statement if no one appended meanwhile (engine/access/audit.py expect_head).
    head = (select(json_rows(AuditChain.last_seq, AuditChain.last_hash, AuditChain.keyed_from, AuditChain.key_mac))
            .where(AuditChain.name == literal("case:") + cast(ProcessInstance.case_id, String)))
    return query.add_columns(json_array(*(column.correlate(ProcessInstance).scalar_subquery()
                                           for column in (open_tasks, pending, agencies)),
                                         ENTERED_DAYS.scalar_subquery(),
                                         head.correlate(ProcessInstance).scalar_subquery()))


def step_of(session: Session, instance: ProcessInstance, open_work: Any) -> Step:
    """The step context of a locked instance from what a `with_open_work` statement read (the
    last value of its row)."""
    open_tasks, pending_timers, case_agencies, entered_days, chain_head = open_work
    audit.expect_head(session, case_chain(instance.case_id), chain_head[0] if chain_head else None)
    return Step(session, instance,
                OpenWork(dict(open_tasks), dict(pending_timers), {agency_id for (agency_id,) in case_agencies}),
                calendar_of(entered_days))


def calendar_of(entered_days: Any) -> BusinessCalendar:
    """The business calendar with the entered days a statement read (`ENTERED_DAYS`)."""
    return BusinessCalendar(overrides={date.fromisoformat(day): bool(working) for day, working in entered_days})
