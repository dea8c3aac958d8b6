"""The business calendar with the administrator's entered days loaded from the database, and the
administrator's edits of those days (each one transaction with its audit event)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.access import audit, policy
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.runtime.transactions import transactional
from engine.time.calendar import BusinessCalendar
from engine.time.clock import now
from models import CalendarDay, User

NOTE_MAX = 200  # the column's length
_ENTERED_DAYS = select(CalendarDay.day, CalendarDay.working)


def business_calendar(session: Session) -> BusinessCalendar:
    """The business calendar with the days an administrator entered, read now (one statement).
    A step counts with the calendar read with its instance's lock instead (engine/runtime/step.py);
    a caller that counts several deadlines reads it once and keeps it."""
    return BusinessCalendar(overrides=dict(session.execute(_ENTERED_DAYS).all()))


def _check_actor(actor: User | None) -> None:
    # None is the operator at the console (`liandong calendar set-day`), as for `users add`.
    if actor is not None and not policy.can_administer(actor):
        raise Forbidden("only administrators edit the business calendar")


def calendar_days(session: Session, actor: User | None) -> Sequence[CalendarDay]:
    """The entered days, oldest first, with who entered them (administrators only)."""
    _check_actor(actor)
    return session.scalars(
        select(CalendarDay).options(selectinload(CalendarDay.entered_by)).order_by(CalendarDay.day)
    ).all()


def _as_detail(row: CalendarDay | None) -> dict | None:
    return None if row is None else {"working": row.working, "note": row.note}


@transactional
def set_calendar_day(session: Session, actor: User | None, day: date, working: bool,
                     note: str = "") -> CalendarDay:
    """Enter (or change) one day as a working or rest day, overriding the official data.

    One transaction with a `calendar_day_set` event on the system chain (before and after).
    Deadlines already computed keep their due times; only deadlines computed from now on use
    the day. InvalidInput for a bad date or a note over 200 characters, Forbidden for non-admins.
    """
    _check_actor(actor)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if isinstance(day, datetime) or not isinstance(day, date):
        errors["day"] = ["must be a date"]
    if not isinstance(working, bool):
        errors["working"] = ["must be true or false"]
    if len(note) > NOTE_MAX:
        errors["note"] = [f"must be at most {NOTE_MAX} characters"]
    if errors:
        raise InvalidInput("cannot set calendar day", errors)
    row = session.get(CalendarDay, day, with_for_update=True)
    before = _as_detail(row)
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.working, row.note = working, note
    row.entered_by_id, row.entered_at = (actor.id if actor else None), now(session)
    session.flush()
    audit.record(session, "calendar_day_set", actor=actor,
                 detail={"day": day.isoformat(), "working": working, "note": note, "before": before})
    return row


@transactional
def clear_calendar_day(session: Session, actor: User | None, day: date) -> None:
    """Remove an entered day, so the official data (or the weekend guess) applies again.

    One transaction with a `calendar_day_cleared` event on the system chain; NotFound if the
    day was not entered.
    """
    _check_actor(actor)
    row = session.get(CalendarDay, day, with_for_update=True)
    if row is None:
        raise NotFound(f"{day.isoformat()} is not an entered calendar day")
    before = _as_detail(row)
    session.delete(row)
    session.flush()
    audit.record(session, "calendar_day_cleared", actor=actor,
                 detail={"day": day.isoformat(), "before": before})


def provisional_after(session: Session) -> int | None:
    """The last year of official holiday data when deadlines may already reach past it.

    A period started late in the year ends in the next one, so the notice is due as soon as
    next year's data is missing: returns the last official year if it is before the current
    (local) year + 1, else None. Supervisors and administrators are shown it.
    """
    calendar = BusinessCalendar()
    year = now(session).astimezone(calendar.tz).year
    last = calendar.last_official_year
    return last if last < year + 1 else None
