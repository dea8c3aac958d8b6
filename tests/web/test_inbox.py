"""The inbox: each role sees its lane's tasks, tabs, paging, deadlines in Beijing time."""
from __future__ import annotations

import re

import pytest

from .helpers import FACTS, claim_and_complete, create_case, open_task, post, text


def _task_links(html: str) -> list[str]:
    return re.findall(r'<a href="/tasks/\d+">([^<]+)</a>', html)


def test_new_case_appears_in_the_samr_handlers_inbox(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler, title="甲公司诉乙公司")
    html = text(handler.get("/"))
    assert _task_links(html) == ["登记案件事实"]
    assert f"LD2026-{case_id:05d}" in html
    # The other samr handler shares the lane.
    assert _task_links(text(client_for("samr_handler2").get("/"))) == ["登记案件事实"]


@pytest.mark.parametrize("username", ["samr_head", "samr_liaison", "police_liaison", "police_handler",
                                      "police_head", "procuratorate_handler"])
def test_other_lanes_do_not_see_the_handlers_task(client_for, username):
    create_case(client_for("samr_handler"))
    assert _task_links(text(client_for(username).get("/"))) == []


def test_inbox_follows_the_task_to_the_next_lane(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    task = open_task(app, case_id, "register_facts")
    assert claim_and_complete(handler, task.id, FACTS).status_code == 303
    assert _task_links(text(handler.get("/"))) == []
    head_inbox = text(client_for("samr_head").get("/"))
    assert _task_links(head_inbox) == ["负责人审批移送"]
    # 3d from Monday 2026-03-02 09:00 ends Thursday 23:59:59 Beijing time (15:59:59 UTC).
    assert "2026-03-05 23:59" in head_inbox
    assert "岗位" in head_inbox and "东市监 · 负责人" in head_inbox


def test_tabs_split_mine_and_claimable(app, client_for):
    handler = client_for("samr_handler")
    first, second = create_case(handler), create_case(handler)
    task = open_task(app, first, "register_facts")
    post(handler, f"/tasks/{task.id}/claim", token_from=f"/tasks/{task.id}")
    mine = text(handler.get("/?view=mine"))
    claimable = text(handler.get("/?view=claimable"))
    everything = text(handler.get("/?view=all"))
    assert f"LD2026-{first:05d}" in mine and f"LD2026-{second:05d}" not in mine
    assert f"LD2026-{second:05d}" in claimable and f"LD2026-{first:05d}" not in claimable
    assert len(_task_links(everything)) == 2
    assert "王承办（市场监管）" in mine  # the assignee column
    # The other handler no longer sees the claimed task at all.
    other = text(client_for("samr_handler2").get("/"))
    assert f"LD2026-{first:05d}" not in other and f"LD2026-{second:05d}" in other
    assert 'aria-current="page">我的' in mine


def test_unknown_view_falls_back_to_all(client_for):
    handler = client_for("samr_handler")
    create_case(handler)
    assert len(_task_links(text(handler.get("/?view=bogus&page=x")))) == 1


def test_overdue_tasks_are_highlighted(app, client_for, clock):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS)
    head = client_for("samr_head")
    assert 'class="overdue"' not in text(head.get("/"))
    clock.advance(days=4)
    html = text(head.get("/"))
    assert '<tr class="overdue">' in html
    assert "已超期" in html


def test_inbox_is_paged(app, client_for):
    app.config["INBOX_PAGE_SIZE"] = 2
    handler = client_for("samr_handler")
    for n in range(3):
        create_case(handler, title=f"案件{n}")
    first = text(handler.get("/"))
    second = text(handler.get("/?page=2"))
    assert len(_task_links(first)) == 2 and len(_task_links(second)) == 1
    assert "第 1 页，共 2 页" in first and "/?view=all&amp;page=2" in first


def _case_numbers(html: str) -> list[str]:
    return re.findall(r"<td>(LD2026-\d{5})</td>", html)


def _to_head(app, handler, title: str) -> int:
    """A case whose first step is done: the head's approval is due in 3 days."""
    case_id = create_case(handler, title=title)
    assert claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS).status_code == 303
    return case_id


def test_filters_by_case_mechanism_and_deadline(app, client_for, clock):
    handler, head = client_for("samr_handler"), client_for("samr_head")
    first, second = _to_head(app, handler, "甲公司案"), _to_head(app, handler, "乙公司案")
    assert _case_numbers(text(head.get("/?case=乙公司"))) == [f"LD2026-{second:05d}"]
    assert _case_numbers(text(head.get(f"/?case=LD2026-{first:05d}"))) == [f"LD2026-{first:05d}"]
    assert len(_case_numbers(text(head.get("/?mechanism=case_transfer")))) == 2
    assert _case_numbers(text(head.get("/?mechanism=consultation"))) == []
    # An unknown mechanism or window is ignored rather than emptying the inbox.
    assert len(_case_numbers(text(head.get("/?mechanism=nope&due=someday")))) == 2
    assert _case_numbers(text(head.get("/?due=overdue"))) == []
    assert len(_case_numbers(text(head.get("/?due=week")))) == 2
    assert _case_numbers(text(head.get("/?due=none"))) == []
    # The handler's first steps have no deadline.
    third = create_case(handler)
    assert _case_numbers(text(handler.get("/?due=none"))) == [f"LD2026-{third:05d}"]
    clock.advance(days=4)
    assert len(_case_numbers(text(head.get("/?due=overdue")))) == 2
    assert _case_numbers(text(head.get("/?due=week"))) == []


def test_filters_are_kept_by_tabs_and_pager_and_shown_in_the_form(app, client_for):
    app.config["INBOX_PAGE_SIZE"] = 1
    handler, head = client_for("samr_handler"), client_for("samr_head")
    for n in range(2):
        _to_head(app, handler, f"案件{n}")
    html = text(head.get("/?case=案件&due=week&sort=-due"))
    pager = html.split('class="pager"')[1]
    assert "page=2" in pager and "due=week" in pager and "sort=-due" in pager
    assert 'href="/?view=mine&amp;case=' in html
    assert '<option value="week" selected>' in html and '<option value="-due" selected>' in html
    assert 'value="案件"' in html and "清除筛选" in html


def test_sort_by_due_time_both_ways(app, client_for, clock):
    handler, head = client_for("samr_handler"), client_for("samr_head")
    early = _to_head(app, handler, "先到案")
    clock.advance(days=1)
    late = _to_head(app, handler, "后到案")
    soonest = _case_numbers(text(head.get("/")))
    assert soonest == [f"LD2026-{early:05d}", f"LD2026-{late:05d}"]
    assert _case_numbers(text(head.get("/?sort=-due"))) == [f"LD2026-{late:05d}", f"LD2026-{early:05d}"]
