"""After the police decide, SAMR's handler is asked about objections only when the decision was
不予立案: then whether to ask for reconsideration is required, its reasons only when asking, and the
direct supervision question only once reconsideration is declined. (The filed path, where the
question never comes, is walked in test_transfer_scenario.py.)"""
from __future__ import annotations

import re

from sqlalchemy import select

from models import Document, User
from tests.helpers import NOT_FILE, police_decide, transferred
from web.db import db

from .pages import inbox_tasks


def _not_filed_case(app) -> tuple[int, str]:
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = transferred(session, users, "浏览器不予立案案")
        police_decide(session, users, case.id, NOT_FILE)
        return case.id, case.number


def test_a_decision_not_to_file_asks_whether_to_object(app, person):
    case_id, number = _not_filed_case(app)
    handler = person("samr_handler")
    [(title, path)] = inbox_tasks(handler, number)
    assert title == "确认不予立案决定"
    handler.goto(path)
    handler.click("form[action$='/claim'] button")
    handler.wait_for_load_state()
    body = handler.locator("form.task-form").inner_text()
    assert "是否提请复议" in body and "仅不予立案" not in body
    reconsider = handler.locator("#field-request_reconsideration .required")
    grounds = handler.locator("#field-reconsideration_grounds .required")
    direct = handler.locator("#field-request_supervision .required")
    assert reconsider.is_visible() and grounds.is_hidden() and direct.is_hidden()
    # Not answered: the server asks for it, as the form said.
    handler.check("#field-acknowledged input[type=checkbox]")
    with handler.expect_navigation():
        handler.click("form.task-form button[type=submit]")
    assert handler.locator("#field-request_reconsideration .error").count() == 1
    handler.check('#field-request_reconsideration input[value="false"]')
    assert direct.is_visible() and grounds.is_hidden()
    handler.check('#field-request_reconsideration input[value="true"]')
    assert grounds.is_visible() and direct.is_hidden()
    handler.fill("#f-reconsideration_grounds", "鉴定意见证明损失已达50万元。")
    with handler.expect_navigation():
        handler.click("form.task-form button[type=submit]")
    assert re.search(r"/tasks/\d+/done$", handler.url)
    with db.new_session(app) as session:
        kinds = set(session.scalars(select(Document.kind).where(Document.case_id == case_id)))
    assert "reconsideration_request" in kinds
