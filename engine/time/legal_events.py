"""Recording legal events: the moments statutory periods run from (workflows/deadlines.toml).

An event is recorded when a task is completed: a task whose `records_event` property names it is
that event (a decision taken, a hand-off received, in Liandong, at the completion's time), and a
form field marked `"x-legal-event": "<event>"` holds the date or time of an event that happened
on paper or at another office, as the user enters it. An entered time may not lie in the future
nor before the event it follows (the catalog's `after`), when the case has recorded that one.
The events go into the workflow variable `legal_events` ({event id: ISO time}), which the tasks
and timers after it count their periods from (engine/time/task_due.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import InvalidInput
from engine.time.calendar import DEFAULT_TIMEZONE
from engine.time.legal_periods import LegalEvent
from engine.time.task_due import LEGAL_EVENTS

ZONE = ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class Recorded:
    """One legal event recorded by a completion: when, and whether a user entered it (the field)."""

    event: str
    at: datetime
    field: str | None = None


def on_completion(schema: Mapping[str, Any], data: Mapping[str, Any], props: Mapping[str, str],
                  workflow_data: Mapping[str, Any], events: Mapping[str, LegalEvent],
                  completed_at: datetime) -> list[Recorded]:
    """The legal events a task's completion records; InvalidInput naming the field when an
    entered time is in the future or before the event it follows."""
    known = dict(workflow_data.get(LEGAL_EVENTS) or {})
    recorded: list[Recorded] = []
    errors: dict[str, list[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        event = prop.get("x-legal-event")
        value = data.get(name)
        if not event or value in (None, ""):
            continue
        try:
            at = entered_time(value)
        except ValueError:  # a shape the form's pattern lets through, e.g. 30 February
            errors.setdefault(name, []).append("is not a valid date or time")
            continue
        if at > completed_at:
            errors.setdefault(name, []).append("must not be in the future")
            continue
        after = events[event].after if event in events else None
        before = known.get(after) if after else None
        if after and before and at.astimezone(ZONE).date() < datetime.fromisoformat(before).astimezone(ZONE).date():
            title = events[after].title if after in events else after
            errors.setdefault(name, []).append(
                f"must not be before {title} ({datetime.fromisoformat(before).astimezone(ZONE).date().isoformat()})")
            continue
        recorded.append(Recorded(event, at, name))
    if errors:
        raise InvalidInput("form data is not valid", errors)
    own = (props.get("records_event") or "").strip()
    if own and own not in {r.event for r in recorded}:
        recorded.append(Recorded(own, completed_at))
    return recorded


def entered_time(value: str) -> datetime:
    """An entered date (the start of that day in Beijing) or date-time (Beijing time unless it
    says otherwise), as an aware datetime; the form's format checks have accepted it already."""
    if "T" not in value and " " not in value:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=ZONE)
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=ZONE)


def with_recorded(workflow_data: Mapping[str, Any], recorded: list[Recorded]) -> dict[str, str]:
    """The `legal_events` variable after these events."""
    events = dict(workflow_data.get(LEGAL_EVENTS) or {})
    events.update({r.event: r.at.isoformat() for r in recorded})
    return events
