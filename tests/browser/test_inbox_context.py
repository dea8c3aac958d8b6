"""The inbox row a handler chooses from, and the page after completing a task: the head's row
names the case title, the due time with its legal rule and who handed the task over; the
handler, having completed their step, sees the next step's lane and deadline and is offered
their next task."""
from __future__ import annotations

import re

from .pages import complete_task, inbox_tasks, open_case


def test_the_inbox_row_and_what_happens_next(person):
    handler, head = person("samr_handler"), person("samr_head")
    first = open_case(handler, "浏览器上下文测试案")
    second = open_case(handler, "浏览器第二案")
    [(_title, path)] = inbox_tasks(handler, f"LD2026-{first:05d}")
    assert complete_task(handler, path)

    # What happens next: the head's decision, its lane and deadline; my next task is the other case's.
    assert handler.locator("h1").inner_text() == "后续步骤"
    step = handler.locator("table.next-tasks tbody tr")
    assert step.count() == 1
    assert "负责人审批移送" in step.inner_text() and "东市监 · 负责人" in step.inner_text()
    assert "2026-03-05 23:59" in step.inner_text()
    offered = handler.locator("#next-task")
    assert f"LD2026-{second:05d}" in offered.inner_text()
    offered.click()
    handler.wait_for_url(re.compile(r".*/tasks/\d+$"))
    assert handler.locator("h1").inner_text() == "登记案件事实"

    head.goto("/")
    row = head.locator("table.tasks tbody tr").filter(has_text=f"LD2026-{first:05d}")
    assert row.count() == 1
    text = row.inner_text()
    assert "浏览器上下文测试案" in text and "负责人审批移送" in text
    assert "2026-03-05 23:59" in text and "3日" in text  # the due time with its period
    assert "王承办（市场监管）" in row.locator("td.handover").inner_text()
