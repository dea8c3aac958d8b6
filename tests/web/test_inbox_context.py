"""Inbox rows carry their context (case title, due time with its rule, who handed the task over
and when), and completing a task shows what happens next."""
from __future__ import annotations

import re

from .helpers import FACTS, claim_and_complete, create_case, open_task, text


def _row(html: str, task_id: int) -> str:
    match = re.search(rf'<tr[^>]*>((?:(?!</tr>).)*?data-task="{task_id}".*?)</tr>', html, re.S)
    assert match, f"task {task_id} not on the page"
    return match.group(1)


def test_a_row_names_the_case_title_and_who_handed_it_over(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler, title="甲公司源代码被窃案")
    first = open_task(app, case_id, "register_facts")
    # The first step was handed over by whoever opened the case, when it was opened.
    row = _row(text(handler.get("/")), first.id)
    assert "甲公司源代码被窃案" in row and f"LD2026-{case_id:05d}" in row
    assert "王承办（市场监管）" in _handover(row)
    assert claim_and_complete(handler, first.id, FACTS).status_code == 303
    head_task = open_task(app, case_id, "decide_transfer")
    row = _row(text(client_for("samr_head").get("/")), head_task.id)
    assert "甲公司源代码被窃案" in row
    assert "王承办（市场监管）" in _handover(row) and "2026-03-02" in _handover(row)
    # The due time comes with the period it follows.
    assert "2026-03-05 23:59" in row and "3日" in row


def _handover(row: str) -> str:
    return re.search(r'<td class="handover">(.*?)</td>', row, re.S).group(1)


def test_the_inbox_in_english_says_handed_over_by(app, client_for):
    handler = client_for("samr_handler")
    create_case(handler)
    html = text(handler.get("/?lang=en"))
    assert "Handed over by" in html and "Case title" in html and "交办" not in html


def test_completing_a_task_shows_the_next_step_and_my_next_task(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    other = create_case(handler, title="另一案件")
    task = open_task(app, case_id, "register_facts")
    response = claim_and_complete(handler, task.id, FACTS)
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}/done"
    html = text(handler.get(response.headers["Location"]))
    assert "任务已办结：登记案件事实" in html and "后续步骤" in html
    step = open_task(app, case_id, "decide_transfer")
    row = _row(html, step.id)
    assert "负责人审批移送" in row and "东市监 · 负责人" in row and "2026-03-05 23:59" in row
    # The handler has no more work on this case: the next task offered is the other case's.
    following = open_task(app, other, "register_facts")
    assert f'id="next-task" href="/tasks/{following.id}"' in html
    assert "我的下一项任务" in html


def test_the_done_page_for_others_and_without_further_work(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    task = open_task(app, case_id, "register_facts")
    claim_and_complete(handler, task.id, FACTS)
    head_task = open_task(app, case_id, "decide_transfer")
    # The page is the case's, whoever may see it: the head is offered their decision on it.
    html = text(client_for("samr_head").get(f"/tasks/{task.id}/done"))
    assert f'id="next-task" href="/tasks/{head_task.id}"' in html
    # The handler has nothing left: no next task, the way back to the inbox.
    html = text(handler.get(f"/tasks/{task.id}/done"))
    assert 'id="next-task"' not in html and 'href="/"' in html
    # A user who may not see the case learns nothing of it.
    assert client_for("police_handler").get(f"/tasks/{task.id}/done").status_code == 404


def test_each_row_names_its_own_instance_s_previous_step(app, client_for, clock):
    first_handler, second_handler = client_for("samr_handler"), client_for("samr_handler2")
    first, second = create_case(first_handler, title="第一案"), create_case(first_handler, title="第二案")
    claim_and_complete(first_handler, open_task(app, first, "register_facts").id, FACTS)
    clock.advance(hours=3)
    claim_and_complete(second_handler, open_task(app, second, "register_facts").id, FACTS)
    html = text(client_for("samr_head").get("/"))
    one = _handover(_row(html, open_task(app, first, "decide_transfer").id))
    two = _handover(_row(html, open_task(app, second, "decide_transfer").id))
    assert "王承办（市场监管）" in one and "2026-03-02 09:00" in one
    assert "王承办（市场监管）" not in two and "2026-03-02 12:00" in two
