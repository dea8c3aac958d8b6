"""In chromium: SAMR's handler records a consultation's minutes with two action items, one that
starts 证据互认 on the case and one that gives the police five working days to obtain bank
statements; the police liaison finds that task in the inbox with its deadline and text and marks
it done; the case page lists both items with their state, who did them and when, and the minutes
document lists them too."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from engine import create_case, start_mechanism
from models import User
from tests.helpers import act
from web.db import db

PROPOSAL = {"topic": "银行流水问题", "questions": "损失如何认定？", "materials": "",
            "invited_agencies": ["police"], "reply_deadline": "3wd"}
PLAN = "启动｜证据互认\n交办｜公安｜5｜调取涉案账户的银行流水"


def _to_minutes(app) -> tuple[int, str]:
    """A case whose consultation waits for its minutes (the steps before them, through the engine)."""
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = create_case(session, users["samr_handler"], "会商落实事项浏览器测试案", mechanisms=[])
        start_mechanism(session, users["samr_handler"], case.id, "consultation")
        act(session, users["samr_handler"], case.id, "propose_consultation", PROPOSAL)
        act(session, users["samr_liaison"], case.id, "approve_consultation", {"handoff_approved": True})
        act(session, users["police_liaison"], case.id, "answer_consultation", {"opinion": "应调取银行流水。"})
        return case.id, case.number


def test_minutes_items_start_a_mechanism_and_reach_the_police_inbox(app, person):
    case_id, number = _to_minutes(app)

    handler = person("samr_handler")
    handler.goto("/")
    handler.locator("table.tasks tbody tr").filter(has_text=number).locator("td a").first.click()
    handler.locator("form[action$='/claim'] button").click()
    context = handler.locator("section.task-context")
    expect(context).to_contain_text("落实事项可启动的机制")
    expect(context).to_contain_text("证据互认")
    expect(context).to_contain_text("聊城市公安局东昌府分局")
    handler.fill("#f-held_on", "2026-03-02")
    handler.fill("#f-participants", "市场监管、公安")
    handler.fill("#f-minutes", "会议讨论了损失认定。")
    handler.fill("#f-conclusion", "互认证据并调取银行流水。")
    handler.fill("#f-action_plan", PLAN)
    handler.check("input[name=request_transfer][value=false]")
    with handler.expect_navigation():
        handler.locator("form.task-form button[type=submit]").click()
    assert re.search(r"/tasks/\d+/done$", handler.url), handler.url

    police = person("police_liaison")
    police.goto("/")
    row = police.locator("table.tasks tbody tr").filter(has_text=number)
    expect(row).to_contain_text("落实会商交办事项")
    expect(row).to_contain_text("2026-03-09 23:59")  # five working days from Monday 2 March
    expect(row).to_contain_text("调取涉案账户的银行流水")  # the item is the row's subject
    row.locator("td a").first.click()
    expect(police.locator("section.task-context")).to_contain_text("调取涉案账户的银行流水")
    police.locator("form[action$='/claim'] button").click()
    police.check("input[name=outcome][value=done]")
    police.fill("#f-note", "已调取三个账户的流水，附卷。")
    with police.expect_navigation():
        police.locator("form.task-form button[type=submit]").click()
    assert re.search(r"/tasks/\d+/done$", police.url), police.url

    handler.goto(f"/cases/{case_id}")
    items = handler.locator("section.action-items tbody tr")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("启动证据互认")
    expect(items.nth(0).locator("td.state")).to_have_text("已启动")
    expect(items.nth(1)).to_contain_text("调取涉案账户的银行流水")
    expect(items.nth(1).locator("td.state")).to_have_text("已落实")
    expect(items.nth(1)).to_contain_text("已调取三个账户的流水，附卷。")
    expect(items.nth(1)).to_contain_text("2026-03-02")
    # The started mechanism runs on the case.
    expect(handler.locator("body")).to_contain_text("证据互认")
    handler.locator("tr").filter(has_text="案情会商纪要").locator("a[href^='/documents/']").first.click()
    document = handler.locator("table.action-items")
    expect(document).to_contain_text("启动证据互认")
    expect(document).to_contain_text("5个工作日内（2026年3月9日前）")
