"""Administrators see why an instance stopped and retry it from the case page."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import create_case
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from models import ProcessInstance, User
from tests.helpers import act
from web.db import db

from .helpers import csrf_token, login

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"


def stopped_instance(app):
    with db.new_session(app) as s:
        deploy_folder(s, FIXTURES)
        handler = s.scalars(select(User).where(User.username == "samr_handler")).one()
        case = create_case(s, handler, "脚本错误")
        instance = start_mechanism(s, handler, case.id, "script_error")
        act(s, handler, case.id, "ask", {"divisor": 0})
        return case.id, instance.id


def test_admin_sees_the_error_and_retries_with_corrections(app, client):
    case_id, instance_id = stopped_instance(app)
    login(client, "admin")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "divide" in page and "division by zero" in page and "quotient = 100 / divisor" in page
    token = csrf_token(client, f"/cases/{case_id}")
    url = f"/cases/{case_id}/instances/{instance_id}/retry"
    bad = client.post(url, data={"csrf_token": token, "corrections": "{oops"}, follow_redirects=True)
    assert "JSON" in bad.get_data(as_text=True)
    done = client.post(url, data={"csrf_token": token, "corrections": '{"divisor": 4}'})
    assert done.status_code == 303
    with db.new_session(app) as s:
        assert s.get(ProcessInstance, instance_id).status == "running"


def test_others_see_no_error_detail_and_may_not_retry(app, client):
    case_id, instance_id = stopped_instance(app)
    login(client, "samr_handler")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "quotient = 100 / divisor" not in page
    token = csrf_token(client, f"/cases/{case_id}")
    response = client.post(f"/cases/{case_id}/instances/{instance_id}/retry",
                           data={"csrf_token": token, "corrections": "{}"})
    assert response.status_code == 403
    with db.new_session(app) as s:
        assert s.get(ProcessInstance, instance_id).status == "error"
