"""Business calendar: when a statutory period ends, in mainland-China working days.

Pure functions plus one small class; no Flask, no database. Official holidays and swapped working
days (调休) come from the ``chinese_calendar`` package, which only knows the years the State Council
has announced. Past its last year we fall back to "Monday to Friday work" plus whatever an
administrator entered, and flag every result that leaned on that guess as *provisional* so the
supervisor UI can say so.

Conventions (callers rely on these):

* Days are counted in the calendar's local zone (default ``Asia/Shanghai``): a case opened at
  01:00 Beijing time on the 14th started on the 14th, even though it is still the 13th in UTC.
* ``Due.at`` is an aware datetime **in the calendar's local zone**; convert with ``astimezone``.
* "End of day" is **23:59:59 local, microsecond 0** (``END_OF_DAY``). A task done at or before
  ``Due.at`` is on time. Seconds precision matches ``format_due`` and the ISO strings in the UI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "END_OF_DAY",
    "BusinessCalendar",
    "Due",
    "Rule",
    "format_due",
    "parse_rule",
]

END_OF_DAY = time(23, 59, 59)
DEFAULT_TIMEZONE = "Asia/Shanghai"
UNITS = ("h", "wd", "d", "m")
MAX_COUNT = 999

_RULE_RE = re.compile(r"([0-9]+)(h|wd|d|m)", re.ASCII)
_OFFICIAL_FIRST_YEAR = min(chinese_calendar.holidays).year
_OFFICIAL_LAST_YEAR = max(chinese_calendar.holidays).year


@dataclass(frozen=True)
class Rule:
    """A parsed deadline rule such as ``5wd``; ``str(rule)`` gives back the canonical text."""

    count: int
    unit: str  # one of UNITS

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


@dataclass(frozen=True)
class Due:
    """A computed deadline.

    ``provisional`` is True when any day looked at while counting relied on the weekends-only
    fallback, i.e. the date may move once the State Council publishes that year's holidays (or an
    administrator enters them); supervisors must be shown this.
    """

    at: datetime  # aware, in the calendar's local zone
    provisional: bool
    rule: str  # canonical rule text, e.g. "5wd"


def parse_rule(rule: str) -> Rule:
    """Validate a deadline rule from a BPMN diagram, config or the CLI, failing loudly.

    A typo in a diagram must stop deployment rather than silently produce a wrong legal deadline,
    so anything but ``N`` (1..999) followed by ``h``, ``wd``, ``d`` or ``m`` raises ValueError
    naming the offending text. Surrounding whitespace (common in XML attributes) is ignored.
    """
    if type(rule) is str and rule in _PARSED:
        return _PARSED[rule]
    text = rule.strip() if isinstance(rule, str) else None
    match = _RULE_RE.fullmatch(text) if text else None
    count = int(match.group(1)) if match else 0
    if not match or not 1 <= count <= MAX_COUNT:
        raise ValueError(
            f"deadline rule {rule!r}: expected N followed by h, wd, d or m "
            f"(N a whole number from 1 to {MAX_COUNT}, e.g. '24h', '5wd', '3d', '1m')"
        )
    parsed = Rule(count, match.group(2))
    if text == rule:
        _PARSED[rule] = parsed  # a rule as written, without spaces: a few thousand at most
    return parsed


# Rules parsed, by their text: every due time counted parses its rule again.
_PARSED: dict[str, Rule] = {}


def format_due(d: Due) -> str:
    """Render a deadline for the CLI and logs in one unambiguous, greppable token.

    ISO 8601 with the UTC offset of ``d.at`` (the calendar's local zone) at seconds precision, plus
    the word ``provisional`` when the date may still move, e.g.
    ``2027-01-11T23:59:59+08:00 provisional``.
    """
    text = d.at.isoformat(timespec="seconds")
    return f"{text} provisional" if d.provisional else text


def _add_months(d: date, months: int) -> date:
    """Calendar-month addition clamped to month end (Jan 31 + 1 month = Feb 28/29), as courts do."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    return date(year, month, min(d.day, last_day))


# The package's answer by date, for the years it covers: its data does not change while the
# process runs, and counting a period asks about the same days again and again (a few hundred
# days a year at most).
_OFFICIAL: dict[date, bool] = {}


def _official(d: date) -> bool | None:
    """The package's answer for a date of a year it covers, or None where its data falls short."""
    try:
        working = bool(chinese_calendar.is_workday(d))
    except NotImplementedError:  # package data narrower than its holiday table claims
        return None
    _OFFICIAL[d] = working
    return working


class BusinessCalendar:
    """Working-day arithmetic for one jurisdiction: official data + administrator overrides.

    ``overrides`` maps local dates to True (working day) or False (rest day). They win over the
    official data, which lets an administrator both correct a year already published and fill in a
    year the package does not know yet (entered days are then no longer provisional).
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 timezone_name: str = DEFAULT_TIMEZONE) -> None:
        """Copy and check the overrides so later edits by the caller cannot change past answers."""
        checked: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"calendar override key {day!r}: expected a datetime.date")
            if not isinstance(working, bool):
                raise TypeError(f"calendar override for {day}: expected True or False, got {working!r}")
            checked[day] = working
        self._overrides = checked
        self.tz = ZoneInfo(timezone_name)

    @property
    def last_official_year(self) -> int:
        """Last year with State Council data in the installed package; later years are provisional.

        Shown to supervisors so they know when to enter next year's holidays (or upgrade the
        package, usually after the November announcement).
        """
        return _OFFICIAL_LAST_YEAR

    def is_working_day(self, d: date) -> tuple[bool, bool]:
        """Return ``(working, provisional)`` for a local date.

        Order: administrator override, then official data, then the weekends-only guess; only the
        guess is provisional. A datetime is refused because its date depends on a time zone the
        caller should have chosen explicitly.
        """
        if type(d) is not date and (isinstance(d, datetime) or not isinstance(d, date)):
            raise TypeError(f"is_working_day({d!r}): expected a datetime.date in local time")
        if d in self._overrides:
            return self._overrides[d], False
        if _OFFICIAL_FIRST_YEAR <= d.year <= _OFFICIAL_LAST_YEAR:
            working = _OFFICIAL[d] if d in _OFFICIAL else _official(d)
            if working is not None:
                return working, False
        return d.weekday() < 5, True

    def due(self, start: datetime, rule: str) -> Due:
        """Compute when a period that began at ``start`` expires under ``rule``.

        ``Nh``: wall-clock hours, never provisional. ``Nwd``: the start day is not counted; the
        period ends at the end of the N-th working day after it (Administrative Penalty Law art. 85,
        Administrative Coercion Law art. 69). ``Nd`` / ``Nm``: the start day is not counted; the
        period ends at the end of start + N days / months (clamped to month end) or, if that is not
        a working day, the end of the next working day (Criminal Procedure Law art. 105).
        """
        if not isinstance(start, datetime) or start.utcoffset() is None:
            raise ValueError(f"deadline start {start!r}: expected a timezone-aware datetime")
        parsed = parse_rule(rule)
        if parsed.unit == "h":
            at = (start.astimezone(timezone.utc) + timedelta(hours=parsed.count)).astimezone(self.tz)
            return Due(at, False, str(parsed))

        day = start.astimezone(self.tz).date()
        provisional = False
        if parsed.unit == "wd":
            remaining = parsed.count
            while remaining:
                day += timedelta(days=1)
                working, guessed = self.is_working_day(day)
                provisional |= guessed
                remaining -= working
        else:
            if parsed.unit == "d":
                day += timedelta(days=parsed.count)
            else:
                day = _add_months(day, parsed.count)
            while True:
                working, guessed = self.is_working_day(day)
                provisional |= guessed
                if working:
                    break
                day += timedelta(days=1)
        return Due(datetime.combine(day, END_OF_DAY, tzinfo=self.tz), provisional, str(parsed))
