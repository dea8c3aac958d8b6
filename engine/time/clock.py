"""Where the engine reads "now". Tests move a FixedClock instead of sleeping."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy.orm import Session


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(timezone.utc)

    def advance(self, **kwargs: float) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now


_SYSTEM = SystemClock()


def clock_of(session: Session) -> Clock:
    """The clock bound to a session factory (`sessionmaker(info={"clock": ...})`), else real time.

    Binding it to the session keeps every service function's signature free of a clock argument
    while still letting one test process run several apps with different clocks.
    """
    return session.info.get("clock", _SYSTEM)


def now(session: Session) -> datetime:
    return clock_of(session).now()
