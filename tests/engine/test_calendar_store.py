"""Entered calendar days: one audited transaction per edit, used by deadlines computed afterwards."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine import Forbidden, InvalidInput, NotFound, create_case, verify_audit
from engine.time.calendar_store import (
    business_calendar,
    calendar_days,
    clear_calendar_day,
    provisional_after,
    set_calendar_day,
)
from models import SYSTEM_CHAIN, AuditEvent, CalendarDay
from tests.conftest import SHANGHAI
from tests.helpers import FACTS_500K, act, open_task


def system_events(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.event_type).where(
        AuditEvent.chain == SYSTEM_CHAIN, AuditEvent.event_type.like("calendar_day%")).order_by(AuditEvent.seq)))


def test_set_change_and_clear_are_audited(session, users):
    admin = users["admin"]
    row = set_calendar_day(session, admin, date(2027, 1, 1), False, " 元旦 ")
    assert (row.working, row.note, row.entered_by_id) == (False, "元旦", admin.id)
    set_calendar_day(session, admin, date(2027, 1, 1), True, "")
    assert [(d.day, d.working) for d in calendar_days(session, admin)] == [(date(2027, 1, 1), True)]
    clear_calendar_day(session, admin, date(2027, 1, 1))
    assert calendar_days(session, admin) == []
    assert system_events(session) == ["calendar_day_set", "calendar_day_set", "calendar_day_cleared"]
    assert verify_audit(session) == []


@pytest.mark.parametrize("username", ["office_supervisor", "samr_head", "samr_handler"])
def test_only_administrators_edit(session, users, username):
    with pytest.raises(Forbidden):
        set_calendar_day(session, users[username], date(2027, 1, 1), False, "")
    with pytest.raises(Forbidden):
        clear_calendar_day(session, users[username], date(2027, 1, 1))
    with pytest.raises(Forbidden):
        calendar_days(session, users[username])
    assert session.scalar(select(func.count()).select_from(CalendarDay)) == 0


def test_refusals_change_nothing(session, users):
    admin = users["admin"]
    with pytest.raises(InvalidInput) as exc:
        set_calendar_day(session, admin, datetime(2027, 1, 1), False, "x" * 201)
    assert set(exc.value.errors) == {"day", "note"}
    with pytest.raises(NotFound):
        clear_calendar_day(session, admin, date(2027, 1, 1))
    assert system_events(session) == []


def test_deadlines_computed_after_an_edit_use_it(session, users, clock):
    clock.set(datetime(2026, 12, 30, 9, 0, tzinfo=SHANGHAI))
    handler, head = users["samr_handler"], users["samr_head"]
    before = business_calendar(session).due(clock.now(), "3d")
    assert before.at.date() == date(2027, 1, 4) and before.provisional
    set_calendar_day(session, users["admin"], date(2027, 1, 4), False, "补休")
    case = create_case(session, handler, "跨年案件")
    act(session, handler, case.id, "register_facts", FACTS_500K)
    decide = open_task(session, case.id, "decide_transfer")
    assert decide.due_at == datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)
    act(session, head, case.id, "decide_transfer", {"transfer_approved": False, "reasons": "证据不足",
                                                           "administrative_penalty": False})


@pytest.mark.parametrize("now, expected", [
    (datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), 2026),   # 2027 is not announced yet
    (datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI), 2026),
    (datetime(2030, 1, 1, 0, 0, tzinfo=SHANGHAI), 2026),
])
def test_notice_year(session, clock, now, expected):
    clock.set(now)
    assert provisional_after(session) == expected


def test_no_notice_once_next_year_is_published(session, clock, monkeypatch):
    # As after upgrading chinese-calendar in November: data through next year.
    monkeypatch.setattr("engine.time.calendar._OFFICIAL_LAST_YEAR", 2027)
    assert provisional_after(session) is None
    clock.set(datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI))
    assert provisional_after(session) == 2027
