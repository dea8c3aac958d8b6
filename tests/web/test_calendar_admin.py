"""Calendar administration: /admin/calendar for administrators and `liandong calendar set-day`."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from models import SYSTEM_CHAIN, AuditEvent, CalendarDay
from web.db import db

from .helpers import post, text, user_id

PAGE = "/admin/calendar/"


def days(app) -> dict[date, tuple[bool, str, int | None]]:
    with db.new_session(app) as s:
        return {d.day: (d.working, d.note, d.entered_by_id) for d in s.scalars(select(CalendarDay))}


def system_events(app, prefix: str = "calendar_day") -> list[tuple[str, dict, int | None]]:
    with db.new_session(app) as s:
        return [(e.event_type, e.detail, e.actor_id) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.chain == SYSTEM_CHAIN,
                                     AuditEvent.event_type.startswith(prefix)).order_by(AuditEvent.seq))]


def test_admin_enters_lists_and_removes_days(app, client_for):
    admin = client_for("admin")
    assert '<a href="/admin/calendar/">工作日历</a>' in text(admin.get("/"))
    assert "尚未录入任何日期" in text(admin.get(PAGE))
    response = post(admin, PAGE, {"day": "2027-01-01", "kind": "rest", "note": "元旦"}, token_from=PAGE)
    assert response.status_code == 303
    post(admin, PAGE, {"day": "2027-02-20", "kind": "working", "note": "春节调休"}, token_from=PAGE)
    html = text(admin.get(PAGE))
    assert "已录入 2027-02-20。" in html
    assert '<tr data-day="2027-01-01">' in html and "元旦" in html and "系统管理员" in html
    assert html.index('data-day="2027-01-01"') < html.index('data-day="2027-02-20"')
    admin_id = user_id(app, "admin")
    assert days(app) == {date(2027, 1, 1): (False, "元旦", admin_id), date(2027, 2, 20): (True, "春节调休", admin_id)}

    post(admin, PAGE, {"day": "2027-01-01", "kind": "working", "note": ""}, token_from=PAGE)  # changed
    assert post(admin, f"{PAGE}2027-02-20/clear", token_from=PAGE).status_code == 303
    assert days(app) == {date(2027, 1, 1): (True, "", admin_id)}
    assert system_events(app) == [
        ("calendar_day_set", {"day": "2027-01-01", "working": False, "note": "元旦", "before": None}, admin_id),
        ("calendar_day_set", {"day": "2027-02-20", "working": True, "note": "春节调休", "before": None}, admin_id),
        ("calendar_day_set", {"day": "2027-01-01", "working": True, "note": "",
                              "before": {"working": False, "note": "元旦"}}, admin_id),
        ("calendar_day_cleared", {"day": "2027-02-20", "before": {"working": True, "note": "春节调休"}}, admin_id),
    ]


@pytest.mark.parametrize("form, field, message", [
    ({"day": "2027-13-01", "kind": "rest", "note": ""}, "day", "请输入日期"),
    ({"day": "", "kind": "rest", "note": ""}, "day", "请输入日期"),
    ({"day": "2027-01-01", "kind": "maybe", "note": ""}, "kind", "请选择工作日或休息日"),
    ({"day": "2027-01-01", "kind": "rest", "note": "长" * 201}, "note", "内容过长"),
])
def test_bad_input_is_shown_next_to_its_field(app, client_for, form, field, message):
    admin = client_for("admin")
    response = post(admin, PAGE, form, token_from=PAGE)
    assert response.status_code == 422
    block = re.search(rf'id="field-{field}">(.*?)(?=id="field-|</form>)', text(response), re.S).group(1)
    assert message in block
    assert days(app) == {} and system_events(app) == []


def test_removing_a_day_that_was_not_entered_is_404(client_for):
    admin = client_for("admin")
    assert post(admin, f"{PAGE}2027-01-01/clear", token_from=PAGE).status_code == 404
    assert post(admin, f"{PAGE}not-a-date/clear", token_from=PAGE).status_code == 404


@pytest.mark.parametrize("username", ["office_supervisor", "samr_head", "samr_handler"])
def test_only_administrators(app, client_for, username):
    other = client_for(username)
    assert other.get(PAGE).status_code == 403
    assert post(other, PAGE, {"day": "2027-01-01", "kind": "rest", "note": ""}).status_code == 403
    assert '<a href="/admin/calendar/">' not in text(other.get("/"))
    assert days(app) == {}


def test_csrf_is_required(app, client_for):
    assert client_for("admin").post(PAGE, data={"day": "2027-01-01", "kind": "rest"}).status_code == 400
    assert days(app) == {}


def test_entered_day_moves_later_deadlines(app, runner):
    # 3d from Wednesday 30 December 2026 ends Monday 4 January 2027 on the weekend guess.
    due = ["calendar", "due", "--start", "2026-12-30T09:00", "--rule", "3d"]
    assert runner.invoke(args=due).output == "2027-01-04T23:59:59+08:00 provisional\n"
    result = runner.invoke(args=["calendar", "set-day", "2027-01-04", "--rest", "--note", "补休"])
    assert result.exit_code == 0, result.output
    assert result.output == "2027-01-04: rest day (补休)\n"
    assert runner.invoke(args=due).output == "2027-01-05T23:59:59+08:00 provisional\n"
    assert runner.invoke(args=["calendar", "list"]).output == "2027-01-04: rest day (补休)\n"
    result = runner.invoke(args=["calendar", "set-day", "2027-01-04", "--clear"])
    assert result.output == "2027-01-04: cleared\n"
    assert runner.invoke(args=due).output == "2027-01-04T23:59:59+08:00 provisional\n"
    # From the console there is no user: the events carry none.
    assert [(t, actor) for t, _, actor in system_events(app)] == [("calendar_day_set", None),
                                                                   ("calendar_day_cleared", None)]


def test_set_day_working(app, runner):
    result = runner.invoke(args=["calendar", "set-day", "2027-02-20", "--working"])
    assert result.exit_code == 0 and result.output == "2027-02-20: working day\n"
    assert days(app) == {date(2027, 2, 20): (True, "", None)}


@pytest.mark.parametrize("args, needle", [
    (["2027-01-01"], "exactly one of --working, --rest or --clear"),
    (["2027-01-01", "--rest", "--clear"], "exactly one of"),
    (["first of may", "--rest"], "is not a date"),
    (["2027-01-01", "--clear"], "is not an entered calendar day"),
    (["2027-01-01", "--rest", "--note", "长" * 201], "note: must be at most 200 characters"),
])
def test_set_day_refuses_with_exit_2(app, runner, args, needle):
    result = runner.invoke(args=["calendar", "set-day", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and needle in result.stderr
    assert days(app) == {}
