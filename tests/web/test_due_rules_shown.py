"""Every due time says which legal period it follows and what it runs from: the task page, the
case page, the supervisor's case page and the API (`due_rule`)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

import engine
from models import HumanTask, User
from tests.conftest import SHANGHAI
from tests.helpers import act
from web.db import db

from .api_helpers import ApiClient
from .helpers import text

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn_periods"


@pytest.fixture
def reply_task(app, clock):
    """A case whose reply period (3 days from the notice, Test rule art. 1) runs from a notice
    received on Thu 5 March and entered on Wed 11 March."""
    clock.set(datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI))
    with db.new_session(app) as session:
        handler = session.scalar(select(User).where(User.username == "samr_handler"))
        engine.deploy_paths(session, [FOLDER / "legal_period.bpmn"])
        case = engine.create_case(session, handler, "期限依据")
        engine.start_mechanism(session, handler, case.id, "legal_period")
        act(session, handler, case.id, "register", {"received_on": "2026-03-05"})
        task = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.bpmn_id == "act"))
        return case.id, task.id


def test_the_api_names_the_rule_its_event_and_statute(app, reply_task):
    _case_id, task_id = reply_task
    task = ApiClient(app, "samr_handler").get(f"/tasks/{task_id}").get_json()
    assert task["due_at"].startswith("2026-03-09T15:59:59")  # Mon 9 March 23:59:59 in Beijing
    rule = dict(task["due_rule"])
    assert datetime.fromisoformat(rule.pop("trigger_at")) == datetime(2026, 3, 5, tzinfo=SHANGHAI)
    assert rule == {"id": "reply", "period": "3d", "trigger": "notice_received", "trigger_title": "收到通知",
                    "statute": "测试规定第一条"}
    listed = ApiClient(app, "samr_handler").get(f"/tasks?case_id={_case_id}&view=claimable").get_json()
    assert [t["due_rule"]["id"] for t in listed["items"] if t["bpmn_id"] == "act"] == ["reply"]


def test_the_pages_say_what_the_period_runs_from(client_for, reply_task):
    case_id, task_id = reply_task
    basis = "测试规定第一条：自收到通知（2026-03-05 00:00）起3日"
    assert basis in text(client_for("samr_handler").get(f"/tasks/{task_id}"))
    assert basis in text(client_for("samr_handler").get(f"/cases/{case_id}"))
    assert basis in text(client_for("office_supervisor").get(f"/supervision/cases/{case_id}"))
    english = text(client_for("samr_handler").get(f"/tasks/{task_id}?lang=en"))
    assert "Test rule art. 1: 3 days from the notice is received (2026-03-05 00:00)" in english
