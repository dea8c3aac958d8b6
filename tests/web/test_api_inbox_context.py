"""The API's task list carries what the inbox page shows (case title, what the task is about, the
due time with its rule, who handed it over and when), filters and sorts as the page does, and
completing a task answers what happens next and which task of mine comes next."""
from __future__ import annotations

from sqlalchemy import select

import engine
from models import User
from tests.helpers import FACTS_500K
from web.db import db

from .api_helpers import ApiClient

PROPOSAL = {"topic": "定性问题", "questions": "是否构成商业秘密？", "invited_agencies": ["police"],
            "reply_deadline": "3wd"}


def _open_case(client: ApiClient, title: str) -> int:
    response = client.post("/cases", {"title": title})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def _do(client: ApiClient, task_id: int, data: dict):
    assert client.post(f"/tasks/{task_id}/claim").status_code == 200
    return client.post(f"/tasks/{task_id}/complete", {"data": data})


def test_rows_carry_their_context(app):
    handler, head = ApiClient(app, "samr_handler"), ApiClient(app, "samr_head")
    case_id = _open_case(handler, "API上下文测试案")
    first = handler.task_of(case_id, "register_facts")
    assert first["case_title"] == "API上下文测试案"
    assert first["handed_over_by"] == "王承办（市场监管）" and first["handed_over_at"].startswith("2026-03-02T01:00")
    done = _do(handler, first["id"], FACTS_500K)
    assert done.status_code == 200, done.get_data(as_text=True)
    decision = head.task_of(case_id, "decide_transfer")
    assert decision["case_title"] == "API上下文测试案" and decision["handed_over_by"] == "王承办（市场监管）"
    assert decision["due_rule"]["id"] and decision["due_at"]
    # After completing: what happens next, the head's decision now, and my next task (none here).
    following = handler.get(f"/tasks/{first['id']}/next").get_json()
    assert [t["bpmn_id"] for t in following["following"]] == ["decide_transfer"]
    assert following["following"][0]["lane"] == "samr.head"
    assert following["next_task"] is None
    assert head.get(f"/tasks/{first['id']}/next").get_json()["next_task"]["id"] == decision["id"]
    assert ApiClient(app, "police_handler").get(f"/tasks/{first['id']}/next").status_code == 404


def test_a_row_says_what_its_task_is_about(app):
    handler, liaison, police = (ApiClient(app, name) for name in ("samr_handler", "samr_liaison", "police_liaison"))
    case_id = _open_case(handler, "API会商案")
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == "samr_handler"))
        engine.start_mechanism(session, user, case_id, "consultation")
    assert _do(handler, handler.task_of(case_id, "propose_consultation")["id"], PROPOSAL).status_code == 200
    assert _do(liaison, liaison.task_of(case_id, "approve_consultation")["id"],
               {"handoff_approved": True}).status_code == 200
    assert police.task_of(case_id, "answer_consultation")["subject"] is None  # not asked for
    [answer] = police.get(f"/tasks?case_id={case_id}&subjects=true").get_json()["items"]
    assert answer["title"] == "出具书面意见"
    assert answer["subject"] == {"title": "召集单位", "text": answer["subject"]["text"], "evidence_id": None}
    assert "市场监督管理局" in answer["subject"]["text"]
    english = police.client.get(f"/api/v1/tasks?case_id={case_id}&subjects=true", headers={**police.headers, "Accept-Language": "en"})
    assert english.get_json()["items"][0]["subject"]["title"] == "Convening agency"


def test_filters_and_order_as_on_the_page(app, clock):
    handler = ApiClient(app, "samr_handler")
    first = _open_case(handler, "甲公司案")
    clock.advance(hours=1)
    second = _open_case(handler, "乙公司案")
    by_title = handler.get("/tasks?case=乙公司").get_json()
    assert [t["case_id"] for t in by_title["items"]] == [second] and by_title["total"] == 1
    assert handler.get("/tasks?mechanism=case_transfer").get_json()["total"] == 2
    assert handler.get("/tasks?mechanism=consultation").get_json()["total"] == 0
    assert handler.get("/tasks?due=overdue").get_json()["total"] == 0
    # register_facts has no due time: "none" finds both, and either order keeps them.
    assert handler.get("/tasks?due=none").get_json()["total"] == 2
    assert {t["case_id"] for t in handler.get("/tasks?sort=-due").get_json()["items"]} == {first, second}
    head = ApiClient(app, "samr_head")
    for case_id in (first, second):
        _do(handler, handler.task_of(case_id, "register_facts")["id"], FACTS_500K)
        clock.advance(days=1)  # the next case's decision is due a day later
    soonest = [t["case_id"] for t in head.get("/tasks?sort=due").get_json()["items"]]
    latest = [t["case_id"] for t in head.get("/tasks?sort=-due").get_json()["items"]]
    assert soonest == [first, second] and latest == [second, first]
    clock.advance(days=10)
    assert head.get("/tasks?due=overdue").get_json()["total"] == 2
    bad = handler.get("/tasks?due=tomorrow")
    assert bad.status_code == 422 and "due" in bad.get_data(as_text=True)
