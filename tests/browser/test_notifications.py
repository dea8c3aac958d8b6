"""A notification arriving: the head sees the unread count in the header once the handler's step
makes a task claimable by them, follows it to the task, and reading it clears the count."""
from __future__ import annotations

import re

from .pages import complete_task, inbox_tasks, open_case


def test_a_notification_arrives_in_the_header_and_leads_to_the_task(person):
    handler, head = person("samr_handler"), person("samr_head")
    head.goto("/")
    assert head.locator("header .unread-count").count() == 0
    case_id = open_case(handler, "通知到达测试案")
    [(_title, path)] = inbox_tasks(handler, f"LD2026-{case_id:05d}")
    complete_task(handler, path)

    head.reload()
    badge = head.locator("header .unread-count")
    assert badge.inner_text() == "1"
    head.click("header a.notifications-link")
    note = head.locator("li.notification.unread")
    assert note.count() == 1 and "负责人审批移送" in note.inner_text()
    # Following it marks it read on the way to the task.
    note.locator("a").first.click()
    head.wait_for_url(re.compile(r".*/tasks/\d+$"))
    assert head.locator("h1").inner_text() == "负责人审批移送"
    assert head.locator("header .unread-count").count() == 0
    head.goto("/notifications")
    assert head.locator("li.notification.unread").count() == 0
    assert head.locator("section.notification-case h2").inner_text().endswith("通知到达测试案")
