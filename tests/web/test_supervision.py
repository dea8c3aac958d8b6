"""The supervision pages: overdue and due-soon work, filters, scope by role, paging, the case view.

Cases are driven through the engine on the app's database and clock; the pages are read as a
browser would, with CSRF on. Supervisors see every agency, agency heads their own, and everyone
else is refused.
"""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from lxml import etree
from sqlalchemy import select

from engine import create_case
from engine.worker.timers import fire_due_timers
from models import Case, User
from tests.conftest import SHANGHAI
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, RECEIPT, act
from web.db import db

from .helpers import text

SVG = {"s": "http://www.w3.org/2000/svg"}


def drive(app, steps) -> int:
    """Open a case as samr_handler and run `steps` [(username, bpmn_id, data)]; returns its id."""
    with db.new_session(app) as s:
        users = {u.username: u for u in s.scalars(select(User))}
        case = create_case(s, users["samr_handler"], "甲公司配方泄露案")
        for username, bpmn_id, data in steps:
            act(s, users[username], case.id, bpmn_id, data)
        return case.id


def number(app, case_id: int) -> str:
    with db.new_session(app) as s:
        return s.get(Case, case_id).number


AT_DECISION = [("samr_handler", "register_facts", FACTS_500K)]
AT_REVIEW = [*AT_DECISION, ("samr_head", "decide_transfer", APPROVE_TRANSFER), ("samr_liaison", "approve_outgoing_handoff", APPROVE_HANDOFF), ("police_liaison", "accept_receipt", RECEIPT)]


@pytest.fixture
def late(app, clock):
    """Two cases created Monday 2 March 09:00: one waits for the SAMR head's decision, one for
    the police review, both due Thursday 23:59:59; the clock is then Friday 6 March 10:00."""
    samr, police = drive(app, AT_DECISION), drive(app, AT_REVIEW)
    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI))
    return {"samr": samr, "police": police}


def rows(html: str) -> list[str]:
    """The data rows of the supervision table, tags and each due time's legal basis stripped, cells
    joined by |."""
    html = re.sub(r'<br><small class="due-basis">.*?</small>', "", html, flags=re.S)
    body = re.search(r'<table class="tasks supervision">.*?<tbody>(.*?)</tbody>', html, re.S)
    if body is None:
        return []
    return ["|".join(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
                     for cell in re.findall(r"<td>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def test_supervisor_sees_late_work_of_every_agency(app, client_for, late):
    html = text(client_for("office_supervisor").get("/supervision/"))
    samr, police = number(app, late["samr"]), number(app, late["police"])
    assert rows(html) == [
        f"{samr}|负责人审批移送|东市监 · 负责人|待认领|4天1小时|2026-03-05 23:59|10小时0分",
        # The 3 days from acceptance bind the head's filing decision (Decree 310 art. 8), not the review.
        f"{police}|负责人决定是否立案|东公 · 负责人|待认领|4天1小时|2026-03-05 23:59|10小时0分",
    ]
    assert 'class="overdue"' in html
    # Each due time says the legal period it follows and the event it runs from.
    bases = re.findall(r'<small class="due-basis">(.*?)</small>', html, re.S)
    assert len(bases) == 2 and all(b.startswith("《") and "起3日" in b for b in bases)
    assert f'href="/supervision/cases/{late["samr"]}"' in html
    assert "甲公司配方泄露案" not in html  # the case appears by its number only


def test_holder_and_time_held_follow_the_claim(app, client_for, late, clock):
    police = client_for("police_head")
    from .helpers import open_task, post
    task = open_task(app, late["police"], "decide_filing")
    clock.set(datetime(2026, 3, 6, 8, 0, tzinfo=SHANGHAI))
    post(police, f"/tasks/{task.id}/claim", token_from=f"/tasks/{task.id}")
    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI))
    [row] = [r for r in rows(text(client_for("office_supervisor").get("/supervision/"))) if "决定是否立案" in r]
    assert row.split("|")[3:5] == ["吴局长（公安）", "2小时0分"]


@pytest.mark.parametrize("query, expected", [
    ("agency=police", ["police"]),
    ("agency=samr", ["samr"]),
    ("mechanism=case_transfer", ["samr", "police"]),
    ("mechanism=rights_protection", []),
    ("case={police}", ["police"]),
    ("case=LD2099-99999", []),
])
def test_filters(app, client_for, late, query, expected):
    numbers = {k: number(app, v) for k, v in late.items()}
    html = text(client_for("office_supervisor").get(f"/supervision/?{query.format(**numbers)}"))
    assert [r.split("|")[0] for r in rows(html)] == [numbers[k] for k in expected]


def test_due_soon_lists_what_falls_due_by_the_end_of_the_next_working_day(app, client_for, clock):
    case_id = drive(app, AT_DECISION)  # due Thursday 5 March 23:59:59
    supervisor = client_for("office_supervisor")
    assert rows(text(supervisor.get("/supervision/?status=due_soon"))) == []  # Monday: Tuesday's end
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI))  # Wednesday: the cutoff is Thursday's end
    [row] = rows(text(supervisor.get("/supervision/?status=due_soon")))
    assert row.startswith(number(app, case_id)) and row.endswith("1天14小时")
    assert rows(text(supervisor.get("/supervision/"))) == []


def test_agency_head_sees_own_agency_only(app, client_for, late):
    head = client_for("samr_head")
    html = text(head.get("/supervision/"))
    assert [r.split("|")[0] for r in rows(html)] == [number(app, late["samr"])]
    assert '<option value="police"' not in html and '<option value="samr"' in html
    assert head.get("/supervision/?agency=police").status_code == 403
    police_head = client_for("police_head")
    assert [r.split("|")[0] for r in rows(text(police_head.get("/supervision/")))] == [number(app, late["police"])]


@pytest.mark.parametrize("path", ["/supervision/", "/supervision/?status=due_soon", "/supervision/metrics",
                                  "/supervision/overdue.csv", "/supervision/cases/{id}",
                                  "/supervision/cases/{id}/timeline.csv"])
def test_others_are_refused(app, client_for, late, path):
    path = path.format(id=late["samr"])
    for username in ("samr_handler", "police_liaison", "procuratorate_handler"):
        assert client_for(username).get(path).status_code == 403
    assert app.test_client().get(path).status_code == 302  # to the login page


def test_header_link_for_those_who_supervise(client_for):
    link = '<a href="/supervision/">督办</a>'
    assert link in text(client_for("office_supervisor").get("/"))
    assert link in text(client_for("police_head").get("/"))
    assert link not in text(client_for("samr_handler").get("/"))


def test_the_list_is_paged(app, client_for, late):
    app.config["SUPERVISION_PAGE_SIZE"] = 1
    supervisor = client_for("office_supervisor")
    first = text(supervisor.get("/supervision/"))
    second = text(supervisor.get("/supervision/?page=2"))
    assert len(rows(first)) == len(rows(second)) == 1 and rows(first) != rows(second)
    assert "第 1 页，共 2 页" in first and "page=2" in first


def test_case_view_draws_the_diagram_and_timeline_without_content(app, client_for, late, clock):
    with db.new_session(app) as s:
        # Both reports: to the office, and to the procuratorate as a filing-supervision request
        # (the filing_supervision mechanism takes it from the outbox).
        assert fire_due_timers(s) == 2
    html = text(client_for("office_supervisor").get(f"/supervision/cases/{late['police']}"))
    svgs = [etree.fromstring(m.encode()) for m in re.findall(r"<svg .*?</svg>", html, re.S)]
    diagram, gantt = svgs[0], svgs[1]

    def mark(element):
        return diagram.find(f".//*[@data-element='{element}']", SVG).get("class").split()[-1]

    assert mark("register_facts") == "completed" and mark("assess_threshold") == "completed"
    assert mark("decide_filing") == "overdue"
    assert mark("report_review_overdue") == "completed"
    assert "东公 · 承办人" in "".join(diagram.itertext())
    bars = gantt.findall(".//s:g[@class='row']", SVG)
    # samr: register, decide, release; police: receipt, then in parallel the review, the head's
    # filing decision (whose 3 days run from the receipt) and the head's optional extension.
    assert [b.get("data-agency") for b in bars] == ["samr"] * 3 + ["police"] * 4
    assert gantt.find(".//s:rect[@class='overdue']", SVG) is not None
    # Deadlines and the timeline; no title, facts or decisions.
    for secret in ("甲公司配方泄露案", FACTS_500K["summary"], FACTS_500K["party_name"], "达到追诉标准"):
        assert secret not in html
    assert 'data-timer="decide_filing_overdue"' in html and "已触发" in html
    assert "<td>期限届满</td>" in html  # the timeline: timer_fired


def test_case_view_charts_speak_the_page_language(app, client_for, late):
    supervisor = client_for("office_supervisor")

    def gantt_text(headers) -> str:
        html = text(supervisor.get(f"/supervision/cases/{late['police']}", headers=headers))
        return "".join(etree.fromstring(re.findall(r"<svg .*?</svg>", html, re.S)[1].encode()).itertext())

    chinese = gantt_text({"Accept-Language": "zh-CN"})
    assert "超期部分" in chinese and "期限" in chinese and "进行中（至现在）" in chinese
    english = gantt_text({"Accept-Language": "en"})
    assert "Overdue part" in english and "In progress (until now)" in english
    assert re.search(r"Due \d{4}-\d\d-\d\d \d\d:\d\d, [\d.]+ (hours|days)", english)
    for word in ("超期部分", "进行中", "期限 ", "小时"):
        assert word not in english


def test_case_view_scope(app, client_for, late):
    assert client_for("samr_head").get(f"/supervision/cases/{late['police']}").status_code == 200
    assert client_for("procuratorate_head").get(f"/supervision/cases/{late['police']}").status_code == 404
    assert client_for("office_supervisor").get("/supervision/cases/999999").status_code == 404
