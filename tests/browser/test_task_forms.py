"""What a person sees on task forms and the inbox in the browser: a reason's required mark
appears only when the answer needs it (and goes again), a recognition without evidence is
declined, and a liaison approves two hand-offs from the inbox with one click."""
from __future__ import annotations

import re

from .pages import complete_task, inbox_tasks, open_case


def _start(page, case_id: int, key: str) -> None:
    page.goto(f"/cases/{case_id}")
    page.select_option("#mechanism-key", key)
    with page.expect_navigation():
        page.click("form.start-mechanism button[type=submit]")


def test_the_reason_is_marked_required_only_when_declining(person):
    handler = person("samr_handler")
    case_id = open_case(handler, "浏览器证据互认无证据案")
    _start(handler, case_id, "evidence_recognition")
    [path] = [p for title, p in inbox_tasks(handler, f"LD2026-{case_id:05d}") if title == "选定并提交证据材料"]
    handler.goto(path)
    handler.click("form[action$='/claim'] button")
    handler.wait_for_load_state()
    reason_mark = handler.locator("#field-withdrawal_reason .required")
    items_mark = handler.locator("#field-item_ids .required")
    assert reason_mark.is_hidden() and items_mark.is_visible()
    handler.check('#field-proceed input[value="false"]')
    assert reason_mark.is_visible() and items_mark.is_hidden()
    handler.check('#field-proceed input[value="true"]')
    assert reason_mark.is_hidden() and items_mark.is_visible()
    # Declined with a reason: the recognition ends, and the page says no step is open for it.
    handler.check('#field-proceed input[value="false"]')
    handler.fill("#f-withdrawal_reason", "本案尚无本局收集的证据。")
    with handler.expect_navigation():
        handler.click("form.task-form button[type=submit]")
    assert re.search(r"/tasks/\d+/done$", handler.url)
    assert "选定并提交证据材料" not in [t for t, _p in inbox_tasks(handler, f"LD2026-{case_id:05d}")]


def test_a_liaison_approves_two_hand_offs_with_one_click(person):
    handler, head, liaison = person("samr_handler"), person("samr_head"), person("samr_liaison")
    numbers = []
    for title in ("浏览器批量甲案", "浏览器批量乙案"):
        case_id = open_case(handler, title)
        numbers.append(f"LD2026-{case_id:05d}")
        for page in (handler, head):
            [(_title, path)] = inbox_tasks(page, numbers[-1])
            assert complete_task(page, path)
    liaison.goto("/")
    rows = [liaison.locator("table.tasks tbody tr").filter(has_text=number) for number in numbers]
    for row in rows:
        assert "联络员审核移交" in row.inner_text()
        row.locator('input[name="task_id"]').check()
    with liaison.expect_navigation():
        liaison.click('button[form="batch-approval"]')
    assert "已批准 2 项移交" in liaison.locator("body").inner_text()
    for number in numbers:
        assert inbox_tasks(liaison, number) == []  # nothing left for the liaison on either case
    police = person("police_liaison")
    for number in numbers:
        assert [t for t, _p in inbox_tasks(police, number)] == ["联络员签收移送案件"]


def test_the_supervisor_s_diagram_fits_its_box_with_the_active_step_in_view(person):
    handler = person("samr_handler")
    case_id = open_case(handler, "浏览器流程图案")
    supervisor = person("office_supervisor")
    supervisor.goto(f"/supervision/cases/{case_id}")
    box = supervisor.locator("div.drawing.diagram").first
    svg = box.locator("svg.ld-bpmn")
    frame, drawing = box.bounding_box(), svg.bounding_box()
    assert drawing["width"] <= frame["width"] + 1 and drawing["height"] <= frame["height"] + 1
    active = svg.locator("g.el.active").first
    step = active.bounding_box()
    assert frame["x"] <= step["x"] and step["x"] + step["width"] <= frame["x"] + frame["width"]
    assert frame["y"] <= step["y"] and step["y"] + step["height"] <= frame["y"] + frame["height"]
    # The whole drawing, then zoomed in: the box scrolls instead of the page growing.
    tools = supervisor.locator(".diagram-tools").first
    tools.locator('button[data-view="whole"]').click()
    assert svg.get_attribute("viewBox") == svg.get_attribute("data-whole")
    height = supervisor.evaluate("document.body.scrollHeight")
    tools.locator('button[data-zoom="1.5"]').click()
    assert svg.bounding_box()["width"] > frame["width"]
    assert supervisor.evaluate("document.body.scrollHeight") <= height + 60  # the box, not the page, grows
    tools.locator('button[data-view="focus"]').click()
    assert svg.get_attribute("viewBox") == svg.get_attribute("data-focus")
