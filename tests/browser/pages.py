"""What a person does in the browser: open a case, find a task in the inbox, fill its form."""
from __future__ import annotations

import re

from tests.web.helpers import FACTS

# Answers by form field name for the happy path of the transfer (approve, accept, file). A field
# not named here gets a harmless answer by its widget, so new steps of a diagram still go through.
ANSWERS = {
    **FACTS,
    "transfer_approved": "true", "administrative_penalty": "false", "handoff_approved": "true", "received": "true",
    "recommendation": "file", "filing_decision": "file", "acknowledged": "true",
    # Filed: SAMR hands the seized items over, one line per item (item｜quantity｜condition).
    "handover_items": "涉案U盘｜2｜封存完好", "discrepancies_found": "false",
}
FILLER_TEXT = "浏览器测试填写。"
FILLER_DATE = "2026-03-02"


def open_case(page, title: str) -> int:
    """Open a case from the New case page; returns its id from the case page's address."""
    page.goto("/cases/new")
    page.fill("#f-title", title)
    page.click("form.narrow button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def inbox_tasks(page, case_number: str) -> list[tuple[str, str]]:
    """(task title, task page path) of the inbox rows of one case."""
    page.goto("/")
    rows = page.locator("table.tasks tbody tr").filter(has_text=case_number)
    links = [rows.nth(i).locator("td a").first for i in range(rows.count())]
    return [(link.inner_text(), link.get_attribute("href")) for link in links]


def _fill_field(page, field) -> None:
    name = (field.get_attribute("id") or "").removeprefix("field-")
    wanted = ANSWERS.get(name)
    radios = field.locator("input[type=radio]")
    if radios.count():
        target = field.locator(f'input[type=radio][value="{wanted}"]') if wanted else radios.first
        (target if target.count() else radios.first).check()
        return
    boxes = field.locator("input[type=checkbox]")
    if boxes.count() and isinstance(wanted, list):
        for value in wanted:  # the options named (the two officers signing a report)
            field.locator(f'input[type=checkbox][value="{value}"]').check()
        return
    if boxes.count():
        # A required confirmation (or a required list) is ticked; an optional one only when wanted.
        if wanted == "true" or field.locator(".required").count():
            boxes.first.check()
        return
    select = field.locator("select")
    if select.count():
        values = [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
        if values:
            select.select_option(wanted if wanted in values else values[0])
        return
    box = field.locator("input, textarea").first
    if box.input_value():
        return
    kind = box.get_attribute("type") or "textarea"
    box.fill(wanted if wanted is not None else {"number": "0", "date": FILLER_DATE}.get(kind, FILLER_TEXT))


def complete_task(page, path: str) -> bool:
    """Claim the task if needed, answer its form and complete it: True when it landed on what
    happens next; False when the form came back with errors (the task is then released)."""
    page.goto(path)
    claim = page.locator("form[action$='/claim'] button")
    if claim.count():
        claim.click()
        page.wait_for_load_state()
    form = page.locator("form.task-form")
    fields = form.locator("div.field")
    for i in range(fields.count()):
        _fill_field(page, fields.nth(i))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    if re.search(r"/tasks/\d+/done$", page.url):
        return True
    # An optional step that can no longer be taken (e.g. extending a review already done).
    assert page.locator("form.task-form .error").count(), page.url
    page.click("form[action$='/unclaim'] button")
    return False
