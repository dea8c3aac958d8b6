"""A late request for reconsideration on the pages: the head's task page shows how late it is, the
refusal prints with the days over the period, and the case page lists it among the holder's
notices with its delivery."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import Document, User
from tests.engine.test_late_reconsideration import LATE, SERVED, window_closed
from tests.helpers import act, open_task
from web.db import db

from .helpers import text


def test_the_head_sees_the_days_over_and_the_refusal_prints_and_is_delivered(app, client_for, clock):
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case_id = window_closed(session, users, clock).id
        act(session, users["police_handler"], case_id, "record_late_request", LATE)
        decide_id = open_task(session, case_id, "decide_late_request").id

    head = client_for("police_head")
    page = text(head.get(f"/tasks/{decide_id}"))
    assert "决定是否受理逾期复议申请" in page
    lines = dict(re.findall(r"<dt>([^<]*)</dt>\s*<dd class=\"prewrap\">([^<]*)</dd>", page))
    assert lines == {"收到申请日期": "2026-03-12", "申请期限届满日": "2026-03-09", "逾期天数": "3",
                     "申请人说明的逾期原因": "法定代表人住院治疗。"}

    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        act(session, users["police_head"], case_id, "decide_late_request",
            {"late_request_decision": "refuse", "reasons": "逾期未说明正当理由"})
        refusal_id = session.scalar(select(Document.id).where(Document.case_id == case_id,
                                                              Document.kind == "holder_late_request_refusal"))
    handler = client_for("police_handler")
    notice = text(handler.get(f"/documents/{refusal_id}"))
    assert "逾期复议申请不予受理通知书" in notice and "某精密机械有限公司" in notice
    assert "2026年3月12日收到复议申请" in notice and "2026年3月9日届满" in notice and "逾期3日" in notice
    assert "法定代表人住院治疗。" in notice and "逾期未说明正当理由" in notice and "不予受理" in notice
    case_page = text(handler.get(f"/cases/{case_id}"))
    assert "逾期复议申请不予受理通知书" in case_page and "登记逾期复议申请" in case_page

    clock.set(clock.now().replace(hour=12))
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        act(session, users["police_handler"], case_id, "serve_late_refusal", SERVED)
    case_page = text(handler.get(f"/cases/{case_id}"))
    assert "民警王某" in case_page  # the service is the notice's delivery record
