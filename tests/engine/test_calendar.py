"""Business calendar tests against the real chinese_calendar data (no mocks).

Every expected value below was worked out by hand from the official 2026 schedule as the package
reports it (chinese_calendar 1.11, data through 2026):

* New Year: Jan 1 (Thu) - Jan 3 (Sat) off; Sun Jan 4 worked.
* Spring Festival: Feb 15 (Sun) - Feb 23 (Mon) off; Sat Feb 14 and Sat Feb 28 worked.
* Mid-autumn: Sep 25 (Fri) - Sep 27 (Sun) off.  National Day: Oct 1 (Thu) - Oct 7 (Wed) off;
  Sun Sep 20 and Sat Oct 10 worked.
* 2027 is not in the package: weekends-only fallback, provisional. Jan 1 2027 is a Friday.

If the package gains 2027 data (chinese-calendar 1.12+), the 2027 cases must be revisited.
"""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.time.calendar import END_OF_DAY, BusinessCalendar, Due, Rule, format_due, parse_rule

CST = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """'2026-02-12 10:00' as an aware Beijing-time datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=CST)


# (start, rule, expected ISO string from format_due)
OFFICIAL_CASES = [
    # --- working days across the 2026 Spring Festival ---
    ("2026-02-12 10:00", "3wd", "2026-02-24T23:59:59+08:00"),  # 13 Fri, 14 Sat(worked), 24 Tue
    ("2026-02-13 09:00", "5wd", "2026-02-27T23:59:59+08:00"),  # 14, 24, 25, 26, 27
    ("2026-02-13 09:00", "7wd", "2026-03-02T23:59:59+08:00"),  # ..27, 28 Sat(worked), Mar 2 Mon
    ("2026-02-12 10:00", "10wd", "2026-03-04T23:59:59+08:00"),  # 13,14,24..28,Mar 2,3,4
    # --- calendar days, rolled to the next working day (CPL art. 105) ---
    ("2026-02-10 08:00", "5d", "2026-02-24T23:59:59+08:00"),  # Feb 15 holiday -> Feb 24
    ("2026-02-07 08:00", "7d", "2026-02-14T23:59:59+08:00"),  # lands on worked Saturday: no roll
    ("2026-02-27 08:00", "1d", "2026-02-28T23:59:59+08:00"),  # worked Saturday Feb 28
    ("2026-02-28 08:00", "2d", "2026-03-02T23:59:59+08:00"),  # Mar 2 Mon
    ("2026-03-06 08:00", "1d", "2026-03-09T23:59:59+08:00"),  # ordinary Saturday -> Monday
    # --- start on a holiday ---
    ("2026-02-16 09:00", "1wd", "2026-02-24T23:59:59+08:00"),
    ("2026-02-16 09:00", "2wd", "2026-02-25T23:59:59+08:00"),
    ("2026-02-20 09:00", "3d", "2026-02-24T23:59:59+08:00"),  # Feb 23 still holiday
    # --- start on a swapped working Saturday ---
    ("2026-02-14 16:00", "1wd", "2026-02-24T23:59:59+08:00"),
    ("2026-02-14 16:00", "1d", "2026-02-24T23:59:59+08:00"),
    ("2026-02-28 16:00", "1wd", "2026-03-02T23:59:59+08:00"),
    # --- New Year 2026 with its worked Sunday ---
    ("2025-12-31 12:00", "1wd", "2026-01-04T23:59:59+08:00"),  # Jan 1-3 off, Sun Jan 4 worked
    # --- National Day 2026 ---
    ("2026-09-29 10:00", "3wd", "2026-10-09T23:59:59+08:00"),  # Sep 30, Oct 8, Oct 9
    ("2026-09-29 10:00", "4wd", "2026-10-10T23:59:59+08:00"),  # worked Saturday Oct 10
    ("2026-09-29 10:00", "5wd", "2026-10-12T23:59:59+08:00"),  # Sun Oct 11 off -> Mon Oct 12
    ("2026-09-28 10:00", "5d", "2026-10-08T23:59:59+08:00"),  # Oct 3 holiday -> Oct 8
    ("2026-09-19 10:00", "1d", "2026-09-20T23:59:59+08:00"),  # worked Sunday Sep 20
    ("2026-09-19 10:00", "7d", "2026-09-28T23:59:59+08:00"),  # Sep 26 Mid-autumn -> Mon Sep 28
    # --- months: clamp to month end, then roll ---
    ("2026-01-31 10:00", "1m", "2026-02-28T23:59:59+08:00"),  # Feb 28 is a worked Saturday
    ("2026-01-31 10:00", "2m", "2026-03-31T23:59:59+08:00"),
    ("2026-03-31 10:00", "1m", "2026-04-30T23:59:59+08:00"),
    ("2026-01-15 10:00", "1m", "2026-02-24T23:59:59+08:00"),  # Feb 15 holiday -> Feb 24
    ("2025-12-31 10:00", "1m", "2026-02-02T23:59:59+08:00"),  # Sat Jan 31 -> Mon Feb 2
    ("2026-08-31 10:00", "1m", "2026-09-30T23:59:59+08:00"),
    # --- end of 2026: only official days examined, so not provisional ---
    ("2026-12-20 10:00", "10d", "2026-12-30T23:59:59+08:00"),
    # --- wall-clock hours ignore holidays and are never provisional ---
    ("2026-03-02 23:30", "1h", "2026-03-03T00:30:00+08:00"),  # across midnight
    ("2026-02-14 22:00", "24h", "2026-02-15T22:00:00+08:00"),  # into the holiday
    ("2026-02-20 10:15", "72h", "2026-02-23T10:15:00+08:00"),  # entirely inside the holiday
    ("2027-01-01 08:00", "48h", "2027-01-03T08:00:00+08:00"),  # beyond official data
]

FALLBACK_CASES = [
    ("2027-01-04 09:00", "5wd", "2027-01-11T23:59:59+08:00 provisional"),
    ("2027-02-05 09:00", "3d", "2027-02-08T23:59:59+08:00 provisional"),  # Mon, ignores 春节 2027
    ("2027-01-08 09:00", "1d", "2027-01-11T23:59:59+08:00 provisional"),  # Sat -> Mon
    ("2026-12-30 09:00", "3wd", "2027-01-04T23:59:59+08:00 provisional"),  # Dec 31, Jan 1, Jan 4
    ("2026-12-29 09:00", "3d", "2027-01-01T23:59:59+08:00 provisional"),
    ("2026-01-15 09:00", "12m", "2027-01-15T23:59:59+08:00 provisional"),
    ("2028-01-31 09:00", "1m", "2028-02-29T23:59:59+08:00 provisional"),  # leap year clamp
]


@pytest.mark.parametrize(("start", "rule", "expected"), OFFICIAL_CASES + FALLBACK_CASES)
def test_due_without_overrides(start, rule, expected):
    assert format_due(BusinessCalendar({}).due(local(start), rule)) == expected


# (overrides, start, rule, expected)
OVERRIDE_CASES = [
    # Administrator declares New Year's Day 2027 a holiday: 3wd moves from Jan 4 to Jan 5.
    ({date(2027, 1, 1): False}, "2026-12-30 09:00", "3wd", "2027-01-05T23:59:59+08:00 provisional"),
    # ... and 3d (ending Jan 1) rolls over the weekend to Mon Jan 4.
    ({date(2027, 1, 1): False}, "2026-12-29 09:00", "3d", "2027-01-04T23:59:59+08:00 provisional"),
    # A holiday on Mon Feb 8 2027 pushes 3d to Tue Feb 9.
    ({date(2027, 2, 8): False}, "2027-02-05 09:00", "3d", "2027-02-09T23:59:59+08:00 provisional"),
    # A worked Saturday Jan 9 2027 becomes the 5th working day (was Mon Jan 11).
    ({date(2027, 1, 9): True}, "2027-01-04 09:00", "5wd", "2027-01-09T23:59:59+08:00 provisional"),
    # The only day examined is the overridden one: the answer is no longer provisional.
    ({date(2027, 1, 9): True}, "2027-01-08 09:00", "1d", "2027-01-09T23:59:59+08:00"),
    # Overrides also beat official data (local extra rest day on Tue Feb 24 2026).
    ({date(2026, 2, 24): False}, "2026-02-12 10:00", "3wd", "2026-02-25T23:59:59+08:00"),
    # Administrator makes Sat Oct 3 2026 (official holiday) a working day: 5d no longer rolls.
    ({date(2026, 10, 3): True}, "2026-09-28 10:00", "5d", "2026-10-03T23:59:59+08:00"),
]


@pytest.mark.parametrize(("overrides", "start", "rule", "expected"), OVERRIDE_CASES)
def test_due_with_overrides(overrides, start, rule, expected):
    assert format_due(BusinessCalendar(overrides).due(local(start), rule)) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 14), (True, False)),  # worked Saturday
        (date(2026, 2, 15), (False, False)),  # Spring Festival Sunday
        (date(2026, 2, 16), (False, False)),  # Spring Festival Monday
        (date(2026, 3, 2), (True, False)),
        (date(2026, 3, 7), (False, False)),  # ordinary Saturday
        (date(2026, 10, 10), (True, False)),
        (date(2027, 1, 1), (True, True)),  # fallback: Friday
        (date(2027, 1, 2), (False, True)),  # fallback: Saturday
        (date(2003, 1, 1), (True, True)),  # before the package's first year
    ],
)
def test_is_working_day(day, expected):
    assert BusinessCalendar({}).is_working_day(day) == expected


def test_overrides_take_precedence_and_are_not_provisional():
    cal = BusinessCalendar({date(2026, 10, 1): True, date(2027, 1, 1): False, date(2027, 1, 2): True})
    assert cal.is_working_day(date(2026, 10, 1)) == (True, False)
    assert cal.is_working_day(date(2027, 1, 1)) == (False, False)
    assert cal.is_working_day(date(2027, 1, 2)) == (True, False)
    assert cal.is_working_day(date(2027, 1, 3)) == (False, True)


def test_overrides_are_copied():
    overrides = {date(2027, 1, 1): False}
    cal = BusinessCalendar(overrides)
    overrides[date(2027, 1, 1)] = True
    assert cal.is_working_day(date(2027, 1, 1)) == (False, False)


def test_last_official_year():
    assert BusinessCalendar({}).last_official_year == 2026


def test_due_fields_and_local_zone():
    due = BusinessCalendar({}).due(local("2026-02-12 10:00"), "3wd")
    assert due == Due(datetime(2026, 2, 24, 23, 59, 59, tzinfo=CST), False, "3wd")
    assert due.at.utcoffset() == timedelta(hours=8)
    assert due.at.time() == END_OF_DAY
    assert due.at.astimezone(timezone.utc) == datetime(2026, 2, 24, 15, 59, 59, tzinfo=timezone.utc)


def test_days_are_counted_in_local_zone_not_utc():
    # 2026-02-13 17:00 UTC is Sat Feb 14 01:00 in Beijing: the start day is the 14th, so the first
    # working day after it is Feb 24 (counting from the UTC date would wrongly give Feb 14).
    start = datetime(2026, 2, 13, 17, 0, tzinfo=timezone.utc)
    assert format_due(BusinessCalendar({}).due(start, "1wd")) == "2026-02-24T23:59:59+08:00"


def test_hours_from_utc_input_returned_in_local_zone():
    start = datetime(2026, 2, 14, 15, 0, tzinfo=timezone.utc)  # 23:00 Beijing
    due = BusinessCalendar({}).due(start, "2h")
    assert format_due(due) == "2026-02-15T01:00:00+08:00"
    assert due.at.tzinfo == CST


def test_other_timezone():
    cal = BusinessCalendar({}, "Asia/Urumqi")  # UTC+6
    start = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert format_due(cal.due(start, "1d")) == "2026-03-03T23:59:59+06:00"


def test_naive_start_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        BusinessCalendar({}).due(datetime(2026, 3, 2, 10, 0), "1d")


def test_datetime_passed_as_day_rejected():
    with pytest.raises(TypeError):
        BusinessCalendar({}).is_working_day(datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    with pytest.raises(TypeError):
        BusinessCalendar({datetime(2027, 1, 1): False})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("24h", Rule(24, "h")), ("5wd", Rule(5, "wd")), ("3d", Rule(3, "d")), ("1m", Rule(1, "m")),
     ("999d", Rule(999, "d")), (" 10wd ", Rule(10, "wd"))],
)
def test_parse_rule(text, expected):
    assert parse_rule(text) == expected


def test_rule_is_canonicalised_in_due():
    assert BusinessCalendar({}).due(local("2026-03-02 10:00"), " 007d ").rule == "7d"


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "3x", "3", "d", "0d", "0wd", "-3d", "+3d", "1000d", "1.5d", "3 d", "3D", "3wdd",
     "3dw", "３d", "three d", "2w", "3hours"],
)
def test_bad_rules_raise(bad):
    with pytest.raises(ValueError, match=r"deadline rule .*expected N followed by h, wd, d or m"):
        parse_rule(bad)
    with pytest.raises(ValueError):
        BusinessCalendar({}).due(local("2026-03-02 10:00"), bad)


def test_bad_rule_message_names_the_rule():
    with pytest.raises(ValueError) as info:
        parse_rule("3x")
    assert str(info.value).startswith("deadline rule '3x': expected N followed by h, wd, d or m")


def test_non_string_rule_raises_value_error():
    with pytest.raises(ValueError, match="deadline rule 3"):
        parse_rule(3)  # type: ignore[arg-type]


def test_format_due():
    at = datetime(2027, 1, 11, 23, 59, 59, tzinfo=CST)
    assert format_due(Due(at, True, "5wd")) == "2027-01-11T23:59:59+08:00 provisional"
    assert format_due(Due(at, False, "5wd")) == "2027-01-11T23:59:59+08:00"
