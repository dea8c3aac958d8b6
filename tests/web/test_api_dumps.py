"""The busiest responses are written as plain dicts (web/api/dumps.py) while the marshmallow
schemas stay the documented contract: on real requests along the transfer path, every answer the
builders write is the one the documented schema's own dump gives, character for character."""
from __future__ import annotations

import json

import marshmallow as ma

from models import HumanTask
from web.api import dumps, schemas
from web.db import db

from .api_helpers import TRANSFER_STEPS, ApiClient


def _same(schema: ma.Schema, build, written: list[str]):
    """A dump that writes with `build`, after checking it against `schema`'s own dump."""

    def dump(obj, *, many=None):
        built = build(obj)
        expected = ma.Schema.dump(schema, obj)
        assert json.dumps(built, sort_keys=True, ensure_ascii=False) == json.dumps(
            expected, sort_keys=True, ensure_ascii=False)
        written.append(type(schema).__name__)
        return built

    return dump


def _same_as_task(build, written: list[str]):
    """A dump of a task just claimed (engine/casework/tasks.py `ClaimedTask`) that writes with
    `build`, after checking it against the documented schema's dump of the task's entity as the
    claim left it."""

    def dump(obj, *, many=None):
        built = build(obj)
        expected = schemas.TaskDetail().dump(db.session.get(HumanTask, obj.id))
        assert json.dumps(built, sort_keys=True, ensure_ascii=False) == json.dumps(
            expected, sort_keys=True, ensure_ascii=False)
        written.append("ClaimedTask")
        return built

    return dump


def test_the_plain_answers_are_what_the_schemas_dump(app, monkeypatch):
    written: list[str] = []
    monkeypatch.setattr(dumps.TASK_DETAIL, "dump", _same(schemas.TaskDetail(), dumps.task_detail, written))
    monkeypatch.setattr(dumps.CLAIMED_DETAIL, "dump", _same_as_task(dumps.claimed_detail, written))
    monkeypatch.setattr(dumps.INBOX_PAGE, "dump", _same(schemas.InboxPage(), dumps.inbox_page, written))
    monkeypatch.setattr(dumps.CASE_DETAIL, "dump", _same(schemas.CaseDetail(), dumps.case_detail, written))

    handler = ApiClient(app, "samr_handler")
    created = handler.post("/cases", {"title": "序列化对照案"})
    assert created.status_code == 201, created.get_data(as_text=True)
    case_id = created.get_json()["id"]
    # Claimed and given back: a task with no assignee again.
    first = handler.task_of(case_id, "register_facts")
    assert handler.post(f"/tasks/{first['id']}/claim").get_json()["assignee"] == "samr_handler"
    assert handler.post(f"/tasks/{first['id']}/unclaim").get_json()["assignee"] is None
    # Through the police's receipt: tasks completed by others, due rules, hand-overs, a second agency.
    claimed = []
    for username, bpmn_id, data in TRANSFER_STEPS[:4]:
        user = ApiClient(app, username)
        task = user.task_of(case_id, bpmn_id)
        answer = user.post(f"/tasks/{task['id']}/claim")
        assert answer.status_code == 200
        claimed.append(answer.get_json())
        done = user.post(f"/tasks/{task['id']}/complete", {"data": data})
        assert done.status_code == 200, done.get_data(as_text=True)
        assert done.get_json()["completed_by"] == username
    # Claimed tasks with a due rule, a hand-off and a form among them.
    assert any(t["due_rule"] for t in claimed) and any(t["handoff"] for t in claimed)
    assert all(t["form"]["properties"] for t in claimed)
    police = ApiClient(app, "police_handler")
    page = police.get(f"/tasks?case_id={case_id}&subjects=true").get_json()
    assert page["items"] and page["items"][0]["handed_over_by"]
    shown = police.get(f"/cases/{case_id}").get_json()
    assert {"samr", "police"} <= {p["agency"] for p in shown["participants"]}
    assert {t["state"] for t in shown["tasks"]} == {"completed", "open"}
    assert any(t["due_rule"] for t in shown["tasks"]) and any(t["completed_by"] for t in shown["tasks"])
    assert police.get(f"/tasks/{shown['tasks'][-1]['id']}").status_code == 200

    assert {"TaskDetail", "InboxPage", "CaseDetail"} <= set(written)
    assert written.count("TaskDetail") >= 5 and written.count("CaseDetail") == 2
    assert written.count("ClaimedTask") == 5
