"""The metrics page: counts, median and 90th-percentile hours and on-time shares, checked as
literal numbers from a week played on the test clock.

Percentiles are linear (numpy's default, Excel's PERCENTILE.INC), so every figure below can be
checked by hand: p90 of [2, 4] = 2 + 0.9 * 2 = 3.8.
"""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from engine import create_case
from models import User
from tests.conftest import SHANGHAI
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, act
from web.db import db

from .helpers import text


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def week(app, clock):
    """Two cases opened Monday 2 March 09:00 and worked through the week:

    register_facts   case 1: Mon 09:00 → Mon 11:00 (2 h)    case 2: Mon 09:00 → Mon 13:00 (4 h)
    decide_transfer  case 1: Mon 11:00 → Tue 11:00 (24 h, due Thu: on time)
                     case 2: Mon 13:00 → Fri 13:00 (96 h, due Thu: late)
    approve_outgoing_handoff  case 1: Tue 11:00 → Wed 13:00 (26 h, due 24 h after: late)
    """
    with db.new_session(app) as s:
        u = {x.username: x for x in s.scalars(select(User))}
        first = create_case(s, u["samr_handler"], "案一")
        second = create_case(s, u["samr_handler"], "案二")
        for when, username, case, bpmn_id, data in [
            (at(2, 11), "samr_handler", first, "register_facts", FACTS_500K),
            (at(2, 13), "samr_handler", second, "register_facts", FACTS_500K),
            (at(3, 11), "samr_head", first, "decide_transfer", APPROVE_TRANSFER),
            (at(4, 13), "samr_liaison", first, "approve_outgoing_handoff", APPROVE_HANDOFF),
            (at(6, 13), "samr_head", second, "decide_transfer", APPROVE_TRANSFER),
        ]:
            clock.set(when)
            act(s, u[username], case.id, bpmn_id, data)
    clock.set(at(9, 9))


def table_rows(html: str, css: str) -> dict[str, list[str]]:
    body = re.search(rf'<table class="metrics {css}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    found = {}
    for attrs, row in re.findall(r"<tr ([^>]*)>(.*?)</tr>", body, re.S):
        key = re.search(r'data-(?:step|mechanism)="([^"]+)"', attrs).group(1)
        found[key] = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    return found


def test_figures_per_step_and_per_agency(client_for, week):
    html = text(client_for("office_supervisor").get("/supervision/metrics?from=2026-03-01&to=2026-03-08"))
    steps = table_rows(html, "steps")
    agency, mechanism = "东市监", "立案协助"  # the agency by its short name, as in the charts
    assert steps == {
        # agency, mechanism, step, count, median h, p90 h, on time
        "register_facts": [agency, mechanism, "登记案件事实", "2", "3", "3.8", "—"],
        "decide_transfer": [agency, mechanism, "负责人审批移送", "2", "60", "88.8", "50% (1/2)"],
        "approve_outgoing_handoff": [agency, mechanism, "联络员审核移交", "1", "26", "26", "0% (0/1)"],
    }
    # All five: 2, 4, 24, 26, 96 hours; rank 0.9 * 4 = 3.6 → 26 + 0.6 * 70 = 68; 1 of 3 on time.
    assert table_rows(html, "groups") == {
        "case_transfer": [agency, mechanism, "5", "24", "68", "33.3% (1/3)"]}
    charts = re.findall(r'<svg [^>]*class="ld-chart".*?</svg>', html, re.S)
    assert len(charts) == 2
    assert "33.3%" in charts[0] and "东市监 · 立案协助" in charts[0]
    assert "88.8" not in charts[1] and "60 小时" in charts[1]  # medians only


def test_the_period_bounds_are_local_days_both_included(client_for, week):
    supervisor = client_for("office_supervisor")
    tuesday = text(supervisor.get("/supervision/metrics?from=2026-03-03&to=2026-03-03"))
    assert list(table_rows(tuesday, "steps")) == ["decide_transfer"]
    assert table_rows(tuesday, "steps")["decide_transfer"][3:] == ["1", "24", "24", "100% (1/1)"]
    # Reversed bounds are swapped rather than refused.
    assert table_rows(text(supervisor.get("/supervision/metrics?from=2026-03-03&to=2026-03-02")),
                      "groups")["case_transfer"][2] == "3"


def test_default_period_and_bad_dates(client_for, week):
    supervisor = client_for("office_supervisor")
    html = text(supervisor.get("/supervision/metrics"))  # the 30 days up to Monday 9 March
    assert 'value="2026-02-08"' in html and 'value="2026-03-09"' in html
    assert table_rows(html, "groups")["case_transfer"][2] == "5"
    html = text(supervisor.get("/supervision/metrics?from=yesterday"))
    assert "不是有效日期" in html and 'value="2026-02-08"' in html


def test_heads_see_their_agency_only(client_for, week):
    html = text(client_for("police_head").get("/supervision/metrics?from=2026-03-01&to=2026-03-08"))
    assert "该期间没有办结的任务。" in html
    assert "case_transfer" in text(client_for("samr_head").get("/supervision/metrics?from=2026-03-01"))
