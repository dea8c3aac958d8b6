"""The context of one step of one process instance, handed explicitly from the lock to what the
step writes.

A step (engine/runtime/instances.py `advance`) compares the workflow with what the rows say the
instance has open — its open task rows (engine/runtime/projection.py), its pending timer rows
(engine/runtime/timer_rows.py), the agencies taking part in its case — and counts due times with
the business calendar. Those are read with the statement that locks the instance
(engine/runtime/open_work.py) instead of a query each afterwards, and travel in a `Step`: what a
step reads is in its signature, not in the session.

The open work is handed out once: a second step of the same instance in one transaction (a
message delivered to an instance that was just started, a second due timer of one instance in a
worker's batch) queries again, since the first step may have changed the rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.runtime.definitions import definition
from engine.time.calendar import BusinessCalendar
from engine.time.calendar_store import business_calendar
from engine.time.legal_periods import LegalEvent, PeriodRule
from models import ProcessInstance


@dataclass
class OpenWork:
    """What the rows say an instance has open, as read with its lock."""

    tasks: dict[str, int]  # SpiffWorkflow task id -> id of its open human_task row
    timers: dict[str, int]  # SpiffWorkflow task id -> id of its pending timer row
    # The agencies taking part in the instance's case; None: not known, the step makes sure of
    # each agency it reaches.
    agencies: set[int] | None


@dataclass
class Step:
    """One instance's step in the caller's transaction: the locked instance, its open work (when
    read ahead) and the calendar its due times are counted with."""

    session: Session
    instance: ProcessInstance
    open_work: OpenWork | None = None
    _calendar: BusinessCalendar | None = field(default=None, repr=False)

    @property
    def calendar(self) -> BusinessCalendar:
        """The business calendar with the administrator's entered days, as read with the lock
        (or now, once, when the lock did not read them)."""
        if self._calendar is None:
            self._calendar = business_calendar(self.session)
        return self._calendar

    @property
    def period_rules(self) -> Mapping[str, PeriodRule]:
        """The catalog rules the instance's process model version was deployed with."""
        return definition(self.session, self.instance.process_model_id).period_rules

    @property
    def legal_events(self) -> Mapping[str, LegalEvent]:
        """The legal events the instance's process model version names, with their titles."""
        return definition(self.session, self.instance.process_model_id).legal_events

    def take_open_work(self) -> OpenWork | None:
        """The open work read ahead for this step, once; None afterwards (query instead)."""
        open_work, self.open_work = self.open_work, None
        return open_work

    def again(self) -> Step:
        """The context of a further step of the same instance in this transaction: the same
        calendar, no open work read ahead."""
        return Step(self.session, self.instance, None, self._calendar)
