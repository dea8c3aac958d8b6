"""The JSON API through Flask's test client: a case walked by every role, and each error shape."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import verify_audit
from models import AuditEvent
from web.db import db

from .api_helpers import TRANSFER_STEPS, ApiClient, bearer, token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def api(app):
    """One API client per demo user, created on first use."""
    clients: dict[str, ApiClient] = {}

    def get(username: str) -> ApiClient:
        if username not in clients:
            clients[username] = ApiClient(app, username)
        return clients[username]

    return get


def assert_problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["type"] == f"urn:liandong:problem:{kind}"
    assert body["title"] and "detail" in body
    return body


def open_case(api, title: str = "接口移送案") -> dict:
    response = api("samr_handler").post("/cases", {"title": title})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_opening_a_case_answers_the_case_as_it_reads_back(app, api):
    """The 201 is built from what opening the case made, not read back: it must say exactly
    what reading the case says."""
    opened = open_case(api, "应答即所存")
    shown = api("samr_handler").get(f"/cases/{opened['id']}").get_json()
    assert opened == shown
    assert [t["bpmn_id"] for t in opened["tasks"]] == ["register_facts"]
    assert opened["instances"][0]["process"] == "case_transfer" and len(opened["instances"][0]["version"]) == 12
    assert [p["agency"] for p in opened["participants"]] == ["samr"]


def test_a_case_walked_through_every_role(app, api):
    case = open_case(api)
    assert case["number"].startswith("LD2026-") and case["owner_agency"] == "samr"
    assert [i["status"] for i in case["instances"]] == ["running"]
    for username, bpmn_id, data in TRANSFER_STEPS:
        client = api(username)
        task = client.task_of(case["id"], bpmn_id)
        claimed = client.post(f"/tasks/{task['id']}/claim")
        assert claimed.status_code == 200 and claimed.get_json()["assignee"] == username
        assert claimed.get_json()["form"]["type"] == "object"
        done = client.post(f"/tasks/{task['id']}/complete", {"data": data})
        assert done.status_code == 200, done.get_data(as_text=True)
        assert done.get_json()["state"] == "completed"

    shown = api("police_head").get(f"/cases/{case['id']}").get_json()
    assert [i["status"] for i in shown["instances"]] == ["completed"]
    # The procuratorate observes the case from the transfer letter on.
    assert {p["agency"] for p in shown["participants"]} == {"samr", "police", "procuratorate"}
    assert all("result" not in t for t in shown["tasks"])  # no form data in the case view
    events = api("samr_handler").get(f"/cases/{case['id']}/timeline").get_json()
    kinds = [e["event_type"] for e in events]
    assert kinds[0] == "case_created" and kinds[-1] == "instance_completed"
    assert kinds.count("task_completed") == len(TRANSFER_STEPS) and [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert "甲离职" not in str(events)
    with db.new_session(app) as session:
        assert verify_audit(session, case["id"]) == []


def test_cases_are_listed_and_shown_per_policy(api):
    case = open_case(api, "只有市场监管可见")
    listed = api("samr_handler2").get("/cases?per_page=5").get_json()
    assert listed["items"][0]["id"] == case["id"] and listed["per_page"] == 5
    assert api("police_handler").get("/cases").get_json()["total"] == 0
    assert_problem(api("police_handler").get(f"/cases/{case['id']}"), 404, "not-found")
    assert api("office_supervisor").get(f"/cases/{case['id']}/timeline").status_code == 200
    assert_problem(api("police_handler").post("/cases", {"title": "x"}), 403, "forbidden")


def test_invalid_input_names_the_fields(api):
    body = assert_problem(api("samr_handler").post("/cases", {"title": "  "}), 422, "invalid-input")
    assert body["errors"] == {"title": ["required"]}
    body = assert_problem(api("samr_handler").post("/cases", {"confidentiality": "x", "extra": 1}),
                          422, "invalid-input")
    assert set(body["errors"]) == {"title", "confidentiality", "extra"}
    case = open_case(api)
    client = api("samr_handler")
    task = client.task_of(case["id"], "register_facts")
    client.post(f"/tasks/{task['id']}/claim")
    body = assert_problem(client.post(f"/tasks/{task['id']}/complete", {"data": {"loss_amount": -1}}),
                          422, "invalid-input")
    assert "party_name" in body["errors"] and "loss_amount" in body["errors"]
    assert_problem(client.post(f"/tasks/{task['id']}/complete", {"data": "no"}), 422, "invalid-input")
    raw = client.client.post(f"/api/v1/tasks/{task['id']}/complete", data="{not json",
                             headers={**client.headers, "Content-Type": "application/json"})
    assert raw.status_code in (400, 422) and raw.mimetype == PROBLEM
    assert_problem(client.get("/tasks?view=everything"), 422, "invalid-input")
    assert_problem(client.get("/tasks?page=0"), 422, "invalid-input")
    assert_problem(client.post("/cases", {"title": "a\x00b"}), 422, "invalid-input")


def test_conflicts_and_refusals(api):
    case = open_case(api)
    first, second = api("samr_handler"), api("samr_handler2")
    task = first.task_of(case["id"], "register_facts")
    assert first.post(f"/tasks/{task['id']}/claim").status_code == 200
    assert_problem(second.post(f"/tasks/{task['id']}/claim"), 409, "conflict")
    assert_problem(second.post(f"/tasks/{task['id']}/complete", {"data": {}}), 403, "forbidden")
    assert_problem(api("samr_head").post(f"/tasks/{task['id']}/claim"), 403, "forbidden")
    assert_problem(api("police_handler").get(f"/tasks/{task['id']}"), 404, "not-found")
    assert_problem(first.get("/tasks/999999"), 404, "not-found")
    assert_problem(first.get("/tasks/99999999999"), 404, "not-found")
    assert first.post(f"/tasks/{task['id']}/unclaim").status_code == 200
    assert_problem(first.post(f"/tasks/{task['id']}/unclaim"), 409, "conflict")


def test_liaison_reassigns_within_the_lane(api):
    case = open_case(api)
    handler = api("samr_handler")
    task = handler.task_of(case["id"], "register_facts")
    handler.post(f"/tasks/{task['id']}/claim")
    liaison = api("samr_liaison")
    moved = liaison.post(f"/tasks/{task['id']}/reassign", {"assignee": "samr_handler2"})
    assert moved.status_code == 200 and moved.get_json()["assignee"] == "samr_handler2"
    body = assert_problem(liaison.post(f"/tasks/{task['id']}/reassign", {"assignee": "nobody"}),
                          422, "invalid-input")
    assert list(body["errors"]) == ["assignee"]
    assert_problem(liaison.post(f"/tasks/{task['id']}/reassign", {"assignee": "police_handler"}),
                   403, "forbidden")
    assert_problem(handler.post(f"/tasks/{task['id']}/reassign", {"assignee": "samr_handler"}),
                   403, "forbidden")
    mine = api("samr_handler2").get("/tasks?view=mine").get_json()
    assert [t["id"] for t in mine["items"]] == [task["id"]]


def test_assignment_is_audited_as_on_the_task_page(app, api):
    """An unclaimed task is delegated, a claimed one reassigned: the events the page records."""
    case = open_case(api)
    task = api("samr_handler").task_of(case["id"], "register_facts")
    liaison = api("samr_liaison")
    for username in ("samr_handler", "samr_handler2"):
        assert liaison.post(f"/tasks/{task['id']}/reassign", {"assignee": username}).status_code == 200
    with db.new_session(app) as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.task_id == task["id"], AuditEvent.event_type.in_(("task_delegated", "task_reassigned")))
            .order_by(AuditEvent.id))
        assert [(e.event_type, e.detail["after_username"]) for e in events] == [
            ("task_delegated", "samr_handler"), ("task_reassigned", "samr_handler2")]


def test_overdue_work_for_supervisors_and_heads(api, clock):
    case = open_case(api)
    handler = api("samr_handler")
    task = handler.task_of(case["id"], "register_facts")
    handler.post(f"/tasks/{task['id']}/claim")
    handler.post(f"/tasks/{task['id']}/complete", {"data": TRANSFER_STEPS[0][2]})
    assert api("office_supervisor").get("/supervision/overdue").get_json()["total"] == 0
    clock.advance(days=10)
    overdue = api("office_supervisor").get(f"/supervision/overdue?case_id={case['id']}").get_json()
    assert [t["bpmn_id"] for t in overdue["items"]] == ["decide_transfer"]
    assert api("samr_head").get("/supervision/overdue").get_json()["total"] == 1
    assert api("office_supervisor").get("/supervision/overdue?agency=police").get_json()["total"] == 0
    assert api("office_supervisor").get("/supervision/overdue?mechanism=case_transfer").get_json()["total"] == 1
    assert_problem(api("police_head").get("/supervision/overdue?agency=samr"), 403, "forbidden")
    assert api("police_head").get("/supervision/overdue").get_json()["total"] == 0
    assert_problem(api("samr_handler").get("/supervision/overdue"), 403, "forbidden")


def test_process_models_listed_and_deployed_by_name(api):
    models = {m["key"]: m for m in api("samr_handler").get("/process-models").get_json()}
    assert "register_facts" in models["case_transfer"]["forms"]
    again = api("admin").post("/process-models/deploy", {"name": "case_transfer"})
    assert again.status_code == 200 and again.get_json() == {"created": False, "model": models["case_transfer"]}
    assert_problem(api("samr_handler").post("/process-models/deploy", {"name": "case_transfer"}), 403, "forbidden")
    assert_problem(api("admin").post("/process-models/deploy", {"name": "missing"}), 404, "not-found")
    assert_problem(api("admin").post("/process-models/deploy", {"name": "../etc"}), 422, "invalid-input")


def test_only_bearer_tokens_are_accepted(app, client_for):
    browser = client_for("samr_handler")  # logged in: the session cookie is sent along
    body = assert_problem(browser.get("/api/v1/tasks"), 401, "unauthorized")
    assert "token" in body["detail"]
    response = browser.get("/api/v1/tasks", headers=bearer("ld_not-a-token"))
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # A valid token needs no CSRF token even for POST: the API never reads cookies.
    token = token_for(app, "samr_handler")
    created = app.test_client().post("/api/v1/cases", json={"title": "无需CSRF"}, headers=bearer(token))
    assert created.status_code == 201


def test_a_bearer_request_has_no_cookie_session(app, client_for):
    """With a token the session cookie is neither read nor written: a logged-in browser's cookie
    beside a token changes nothing, and ?lang, which pages remember in the session, is ignored."""
    browser = client_for("samr_handler")
    token = token_for(app, "police_liaison")
    response = browser.get("/api/v1/tasks?lang=en", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    # The page session of the browser is as it was: still logged in, language not changed.
    page = browser.get("/")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.get_data(as_text=True)


def test_token_use_is_recorded_and_revocation_is_immediate(app, clock):
    import engine
    from models import ApiToken

    token = token_for(app, "police_liaison")
    client = app.test_client(use_cookies=False)
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    with db.new_session(app) as session:
        row = session.query(ApiToken).one()
        assert row.last_used_at == clock.now() and row.token_hash != token and token.startswith(row.prefix)
        engine.revoke_token(session, None, row.id)
    clock.advance(minutes=5)
    assert_problem(client.get("/api/v1/tasks", headers=bearer(token)), 401, "unauthorized")
    with db.new_session(app) as session:
        assert session.query(ApiToken).one().last_used_at == clock.now() - timedelta(minutes=5)


def test_unknown_routes_and_methods_are_problems_too(api):
    assert_problem(api("samr_handler").get("/nothing-here"), 404, "not-found")
    response = api("samr_handler").client.delete("/api/v1/cases", headers=api("samr_handler").headers)
    assert_problem(response, 405, "method-not-allowed")


def test_the_spec_and_its_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            codes = set(op["responses"])
            assert "401" in codes and "default" in codes, (method, path)
            assert any(c.startswith("2") for c in codes), (method, path)
    problem = spec["components"]["responses"]["NOT_FOUND"]["content"]
    assert list(problem) == [PROBLEM]
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<code>POST /api/v1/tasks/{task_id}/claim</code>" in html
    assert "https://" not in html.replace("https://json-schema.org", "") and "<script" not in html


def test_an_unexpected_error_is_a_problem_without_its_details(database_url, clock, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path), "PROPAGATE_EXCEPTIONS": False})

    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/broken", view_func=broken)  # a bug anywhere under /api/v1
    try:
        body = assert_problem(app.test_client().get("/api/v1/broken"), 500, "internal-error")
        assert "secret internals" not in str(body)
    finally:
        db.state(app).engine.dispose()
