"""The business calendar with the administrator's entered days loaded from the database."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalendarDay

from .calendar import BusinessCalendar


def business_calendar(session: Session) -> BusinessCalendar:
    """One calendar per transaction: entered days are read once, not once per deadline."""
    transaction = id(session.get_transaction())
    cached = session.info.get("_business_calendar")
    if cached is None or cached[0] != transaction:
        overrides = {row.day: row.working for row in session.scalars(select(CalendarDay))}
        cached = (transaction, BusinessCalendar(overrides=overrides))
        session.info["_business_calendar"] = cached
    return cached[1]
