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

from datetime import datetime, timedelta
from typing import Any, Protocol

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine.time.calendar import END_OF_DAY, BusinessCalendar, Due, parse_rule

PROPERTIES = ("deadline_from", "deadline_used")


def check_properties(props: dict[str, str]) -> str | None:
    """Why a task's or timer's deadline properties are wrong, or None (checked at deploy)."""
    for name in PROPERTIES:
        if props.get(name) and not props[name].isidentifier():
            return f"{name} must name a variable, not '{props[name]}'"
    if props.get("deadline_used"):
        rule = props.get("deadline")
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


class CalendarSource(Protocol):
    """Where a due time's calendar comes from (a step's context): read only if a rule needs it."""

    @property
    def calendar(self) -> BusinessCalendar: ...


def due_for(source: CalendarSource, task, start: datetime) -> tuple[Due, str] | None:
    """The due time of a task or timer that starts now, and the rule it was counted with
    (`"12wd"` when 3 of a 15wd period are used); None without a rule. A wrong variable stops
    the instance: WorkflowTaskException naming the element."""
    props = _properties(task.task_spec)
    try:
        rule = rule_for(props, task.data)
        if rule is None:
            return None
        calendar = source.calendar
        if not props.get("deadline_used"):
            return calendar.due(start, rule), rule
        left = parse_rule(rule).count - _used(props, task.data)
    except ValueError as exc:
        raise WorkflowTaskException(f"task {task.task_spec.bpmn_id}: {exc}", task=task) from exc
    if left >= 1:
        return calendar.due(start, f"{left}wd"), f"{left}wd"
    return _already_over(calendar, start, -left), "0wd"


def spent_on_completion(calendar: BusinessCalendar, task, opened: datetime, closed: datetime) -> dict[str, int]:
    """The `deadline_used` variable after a user task open from `opened` to `closed` completes
    ({} when the task counts no period): to be put into the task's data before it runs."""
    props = _properties(task.task_spec)
    variable = props.get("deadline_used")
    if not variable:
        return {}
    try:
        used = _used(props, task.data)
    except ValueError as exc:
        raise WorkflowTaskException(f"task {task.task_spec.bpmn_id}: {exc}", task=task) from exc
    return {variable: used + working_days_between(calendar, opened, closed)}


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
