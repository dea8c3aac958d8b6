"""Due times of user tasks and timer events: the diagram's rule, a rule held in a variable, and
periods whose clock stops between the tasks that count them.

A task or timer names its rule with `deadline`. Two more properties (docs/bpmn-conventions.md):

- `deadline_from`: a variable holding the rule instead (`"5wd"`, chosen on a form). Absent or
  empty, `deadline` applies; a value that is not a rule stops the instance with the reason.
- `deadline_used`: a variable counting the working days of the period already spent. The due
  time is the period minus those days, counted from when the task or timer starts; completing
  a user task adds the working days it was open. So a period runs only while tasks naming it
  are open, and stops in between: time for an appraisal, which the law does not count
  (市场监督管理行政处罚程序规定 art. 18), simply has no such task.

Working days spent are those after the day a task opened, up to and including the day it was
completed: the same count `Nwd` due times use, so a period resumed on the day it stopped ends
where it would have ended without the stop.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine.time.calendar import END_OF_DAY, BusinessCalendar, Due, parse_rule
from engine.time.legal_periods import TASK_OPENED, LegalEvent, PeriodRule, is_rule_id

PROPERTIES = ("deadline_from", "deadline_used")
# The workflow variable holding {legal event id: ISO time it happened} (engine/time/legal_events.py).
LEGAL_EVENTS = "legal_events"


def check_properties(props: dict[str, str]) -> str | None:
    """Why a task's or timer's deadline properties are wrong, or None (checked at deploy)."""
    for name in PROPERTIES:
        if props.get(name) and not props[name].isidentifier():
            return f"{name} must name a variable, not '{props[name]}'"
    if props.get("deadline_used"):
        rule = props.get("deadline")
        if rule and is_rule_id(rule):
            return None  # a catalog rule's unit is checked against the catalog at deploy
        if not rule:
            return "deadline_used needs a 'deadline' rule in working days (the period when nothing is used)"
        try:
            unit = parse_rule(rule).unit
        except ValueError as exc:
            return str(exc)
        if unit != "wd":
            return f"deadline_used counts working days: its deadline must be 'Nwd', not '{rule}'"
    return None


def rule_for(props: dict[str, str], data: dict[str, Any]) -> str | None:
    """The rule in force: the `deadline_from` variable's value if set, else `deadline`.

    ValueError names the variable when its value is not a deadline rule.
    """
    variable = props.get("deadline_from")
    value = data.get(variable) if variable else None
    if value in (None, ""):
        return props.get("deadline") or None
    try:
        parse_rule(value)
    except ValueError as exc:
        raise ValueError(f"variable '{variable}' must hold a deadline rule: {exc}") from exc
    if props.get("deadline_used") and parse_rule(value).unit != "wd":
        raise ValueError(f"variable '{variable}' must hold a rule in working days ('Nwd'), not {value!r}")
    return value.strip()


def _used(props: dict[str, str], data: dict[str, Any]) -> int:
    variable = props.get("deadline_used")
    value = data.get(variable, 0) if variable else 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"variable '{variable}' must hold the working days used (a whole number >= 0), not {value!r}")
    return value


class DueSource(Protocol):
    """What counting a due time reads of its step (engine/runtime/step.py): the calendar, read
    only if a rule needs it, and the catalog rules the instance's process model was deployed with."""

    @property
    def calendar(self) -> BusinessCalendar: ...

    @property
    def period_rules(self) -> Mapping[str, PeriodRule]: ...

    @property
    def legal_events(self) -> Mapping[str, LegalEvent]: ...


class DueTime(NamedTuple):
    """A due time and what it was counted with."""

    due: Due
    rule: str  # the period counted: "3d", or "12wd" when 3 of a 15wd period are used
    rule_id: str | None = None  # the catalog rule (workflows/deadlines.toml)
    trigger_at: datetime | None = None  # when the legal event it runs from happened
    basis: dict[str, str] | None = None  # the rule's trigger and statute, for the pages


def basis_of(rule: PeriodRule, events: Mapping[str, LegalEvent]) -> dict[str, str]:
    """What a due time shows of its rule: the legal event it runs from and the statute."""
    event = events.get(rule.trigger)
    return {"trigger": rule.trigger, "trigger_title": event.title if event else "",
            "trigger_title_en": event.title_en if event else "", "statute": rule.statute,
            "statute_en": rule.statute_en}


def due_for(source: DueSource, task, start: datetime) -> DueTime | None:
    """The due time of a task or timer that starts now at `start`; None without a rule. A rule
    from the catalog runs from its legal event as the case recorded it (`legal_events`), which
    may lie days back: the due time may then be past already. A wrong variable or an event the
    case has not recorded stops the instance: WorkflowTaskException naming the element."""
    props = _properties(task.task_spec)
    try:
        deadline = (props.get("deadline") or "").strip()
        if deadline and is_rule_id(deadline):
            return _catalog_due(source, task, props, source.period_rules[deadline], start)
        rule = rule_for(props, task.data)
        if rule is None:
            return None
        calendar = source.calendar
        if not props.get("deadline_used"):
            return DueTime(calendar.due(start, rule), rule)
        left = parse_rule(rule).count - _used(props, task.data)
    except ValueError as exc:
        raise WorkflowTaskException(f"task {task.task_spec.bpmn_id}: {exc}", task=task) from exc
    return _remaining(calendar, start, left)


def _catalog_due(source: DueSource, task, props: dict[str, str], rule: PeriodRule, start: datetime) -> DueTime:
    variable = props.get("deadline_from")
    period = (task.data.get(variable) if variable else None) or rule.period
    if not isinstance(period, str) or not rule.allows(period.strip()):
        allowed = ", ".join([rule.period, *(e.period for e in rule.extensions)])
        raise ValueError(f"variable '{variable}' holds {period!r}, not a period rule {rule.id} allows ({allowed})")
    period = period.strip()
    trigger_at = None if rule.trigger == TASK_OPENED else recorded_event(task.data, rule.trigger, rule.id)
    calendar = source.calendar
    used_variable = props.get("deadline_used")
    basis = basis_of(rule, source.legal_events)
    if used_variable and used_variable in task.data:
        # The period was stopped and resumes now with what is left of it.
        left = parse_rule(period).count - _used(props, task.data)
        found = _remaining(calendar, start, left)
        return DueTime(found.due, found.rule, rule.id, trigger_at, basis)
    return DueTime(calendar.due(trigger_at or start, period), period, rule.id, trigger_at, basis)


def _remaining(calendar: BusinessCalendar, start: datetime, left: int) -> DueTime:
    if left >= 1:
        return DueTime(calendar.due(start, f"{left}wd"), f"{left}wd")
    return DueTime(_already_over(calendar, start, -left), "0wd")


def recorded_event(data: Mapping[str, Any], event: str, rule_id: str) -> datetime:
    """When the case's legal event happened, as recorded in the workflow data; ValueError when
    the case has not recorded it (a diagram that counts a rule before its event happened)."""
    value = (data.get(LEGAL_EVENTS) or {}).get(event)
    if not value:
        raise ValueError(f"rule {rule_id} runs from the legal event '{event}', which this case has not recorded")
    return datetime.fromisoformat(value)


def spent_on_completion(source: DueSource, task, opened: datetime, closed: datetime) -> dict[str, int]:
    """The `deadline_used` variable after a user task open from `opened` to `closed` completes
    ({} when the task counts no period): to be put into the task's data before it runs. The
    first task that counts a catalog rule's period counts from the rule's legal event."""
    props = _properties(task.task_spec)
    variable = props.get("deadline_used")
    if not variable:
        return {}
    try:
        used = _used(props, task.data)
        deadline = (props.get("deadline") or "").strip()
        if variable not in task.data and is_rule_id(deadline):
            rule = source.period_rules[deadline]
            if rule.trigger != TASK_OPENED:
                opened = recorded_event(task.data, rule.trigger, rule.id)
    except ValueError as exc:
        raise WorkflowTaskException(f"task {task.task_spec.bpmn_id}: {exc}", task=task) from exc
    return {variable: used + working_days_between(source.calendar, opened, closed)}


def working_days_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Working days after the local day of `start`, up to and including the local day of `end`."""
    day, last = start.astimezone(calendar.tz).date(), end.astimezone(calendar.tz).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)[0]
    return count


def _already_over(calendar: BusinessCalendar, start: datetime, overrun: int) -> Due:
    """A period used up `overrun` working days ago (0: it ended on the last working day up to
    today): its end, which is already past."""
    day = start.astimezone(calendar.tz).date()
    provisional = False
    remaining = overrun + 1  # the first working day found backwards is the end of a 0 overrun
    while True:
        working, guessed = calendar.is_working_day(day)
        provisional |= guessed
        remaining -= working
        if remaining == 0:
            break
        day -= timedelta(days=1)
    return Due(datetime.combine(day, END_OF_DAY, tzinfo=calendar.tz), provisional, "0wd")


def _properties(task_spec) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})
