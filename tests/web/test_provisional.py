"""Deadlines computed past the official calendar (here: 2027) say 暂定 wherever they are shown,
and supervisors and administrators are told which years that concerns."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.conftest import SHANGHAI

from .helpers import open_task, text
from .test_supervision import AT_DECISION, drive

BADGE = re.compile(r'<span class="badge muted( provisional)?"[^>]*>暂定</span>')
NOTICE = "官方节假日安排目前只公布到 2026 年"


@pytest.fixture
def late_december(app, clock):
    """decide_transfer created Wednesday 30 December 2026: 3d ends on 4 January 2027, a date
    the official data does not cover yet."""
    clock.set(datetime(2026, 12, 30, 9, 0, tzinfo=SHANGHAI))
    case_id = drive(app, AT_DECISION)
    task = open_task(app, case_id, "decide_transfer")
    assert task.due_provisional and task.due_at == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)
    return case_id, task


def test_provisional_due_time_is_flagged_everywhere(app, client_for, clock, late_december):
    case_id, task = late_december
    head = client_for("samr_head")
    for page in ("/", f"/tasks/{task.id}", f"/cases/{case_id}"):
        html = text(head.get(page))
        assert "2027-01-04 23:59" in html and BADGE.search(html), page
    supervisor = client_for("office_supervisor")
    assert len(BADGE.findall(text(supervisor.get(f"/supervision/cases/{case_id}")))) == 2  # task and timer
    assert 'data-timer="decide_transfer_overdue"' in text(supervisor.get(f"/supervision/cases/{case_id}"))
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI))
    html = text(supervisor.get("/supervision/"))
    row = re.search(r'<tr class="overdue" data-task="\d+">(.*?)</tr>', html, re.S).group(1)
    assert "2027-01-04 23:59" in row and BADGE.search(row)


def test_register_facts_due_in_2026_is_not_provisional(app, client_for):
    case_id = drive(app, AT_DECISION)
    assert not BADGE.search(text(client_for("samr_head").get(f"/cases/{case_id}")))


@pytest.mark.parametrize("username, shown", [
    ("office_supervisor", True), ("admin", True), ("samr_head", True), ("samr_handler", False),
    ("police_liaison", False),
])
def test_notice_about_years_without_official_holidays(client_for, username, shown):
    html = text(client_for(username).get("/"))
    assert (NOTICE in html) is shown
    if shown:
        assert "管理员录入 2027 年节假日" in html
