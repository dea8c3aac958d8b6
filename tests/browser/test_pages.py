"""Single pages in a real browser: language, overdue deadlines, form errors, escaping, no-JS use."""
from __future__ import annotations

import re

from .pages import FILLER_TEXT, complete_task, inbox_tasks, open_case

XSS_TITLE = '<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 1">案'


def test_language_switch_in_the_header_and_in_the_profile(person):
    page = person("samr_handler")
    open_case(page, "甲公司诉乙公司")
    page.goto("/")
    assert page.locator("h1").inner_text() == "待办"
    assert page.locator("table.tasks td a").first.inner_text() == "登记案件事实"
    page.click("header .lang a[lang=en]")
    assert page.locator("h1").inner_text() == "Inbox"
    # The diagram's Chinese task name comes from the workflow catalogue in English.
    assert page.locator("table.tasks td a").first.inner_text() == "Register the case facts"
    assert page.locator("html").get_attribute("lang") == "en"
    # Kept on the user: a new browser that asks for Chinese still gets English.
    page.goto("/profile")
    page.select_option("#f-language", "en")
    page.click("form.language-form button")
    other = person("samr_handler", locale="zh-CN")
    assert other.locator("h1").inner_text() == "Inbox"


def test_overdue_task_is_highlighted_when_the_clock_passes_its_deadline(person, clock):
    handler, head = person("samr_handler"), person("samr_head")
    case_id = open_case(handler, "逾期高亮测试案")
    [(_title, path)] = inbox_tasks(handler, f"LD2026-{case_id:05d}")
    complete_task(handler, path)
    head.goto("/")
    row = head.locator("table.tasks tbody tr").filter(has_text="负责人审批移送")
    assert row.count() == 1 and "overdue" not in (row.get_attribute("class") or "")
    clock.advance(days=4)  # the head had 3 days
    head.reload()
    assert "overdue" in row.get_attribute("class")
    assert row.locator(".badge").inner_text() == "已超期"
    background = row.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")


def test_validation_error_is_shown_next_to_its_field(person):
    page = person("samr_handler")
    case_id = open_case(page, "表单校验测试案")
    [(_title, path)] = inbox_tasks(page, f"LD2026-{case_id:05d}")
    page.goto(path)
    page.click("form[action$='/claim'] button")
    page.fill("#f-suspected_offence", "侵犯商业秘密罪")
    page.fill("#f-loss_amount", "1")
    page.fill("#f-illegal_gain", "0")
    page.fill("#f-summary", FILLER_TEXT)
    page.click("form.task-form button[type=submit]")
    field = page.locator("#field-party_name")
    assert "has-error" in field.get_attribute("class")
    assert field.locator(".error").count() == 1 and field.locator(".error").inner_text()
    # The values typed are kept; other fields carry no error.
    assert page.input_value("#f-summary") == FILLER_TEXT
    assert page.locator("#field-summary .error").count() == 0


def test_script_in_a_case_title_is_shown_as_text(person):
    page = person("samr_handler")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    case_id = open_case(page, XSS_TITLE)
    assert XSS_TITLE in page.locator("main").inner_text()
    page.goto("/cases")
    assert XSS_TITLE in page.locator("main").inner_text()
    [(_title, path)] = inbox_tasks(page, f"LD2026-{case_id:05d}")
    page.goto(path)
    assert page.locator("p.crumbs").inner_text().endswith(XSS_TITLE)
    assert page.evaluate("window.pwned") is None and dialogs == []
    assert page.locator("main script, main img[src=x]").count() == 0


def test_inbox_filters_and_comments_work_without_javascript(person):
    page = person("samr_handler", java_script_enabled=False)
    first, second = open_case(page, "筛选甲案"), open_case(page, "筛选乙案")
    page.goto("/")
    page.fill("#filter-case", "筛选乙")
    page.click("form.filters button[type=submit]")
    assert re.search(r"case=", page.url)
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() == 1 and f"LD2026-{second:05d}" in rows.first.inner_text()
    rows.first.locator("td a").click()
    page.fill("#f-body", "请先核实当事人名称。")
    page.click("form.comment-form button")
    assert page.locator("ol.comments li").last.inner_text().endswith("请先核实当事人名称。")
    assert f"LD2026-{first:05d}" not in page.content()
