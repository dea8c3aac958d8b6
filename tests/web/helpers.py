"""Helpers for driving the app like a browser: CSRF tokens from pages, login, task lookups."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import HumanTask, User
from tests.conftest import password_for
from web.db import db

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/") -> str:
    """The CSRF token a page of the client's session carries (as a browser would submit it)."""
    page = client.get(path, follow_redirects=True)
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def post(client, url: str, data: dict | None = None, token_from: str = "/", **kwargs):
    """POST a form the way the page would: with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client, token_from), **(data or {})}, **kwargs)


def login(client, username: str, password: str | None = None):
    return post(client, "/login", {"username": username, "password": password or password_for(username)},
                token_from="/login")


def text(response) -> str:
    return response.get_data(as_text=True)


def field_html(html: str, name: str) -> str:
    """The markup of one form field, from its wrapper to the next field (errors sit inside)."""
    match = re.search(rf'<div class="field[^"]*" id="field-{re.escape(name)}">(.*?)(?=<div class="field|</form>)',
                      html, re.S)
    assert match, f"field {name} not on the page"
    return match.group(1)


def open_task(app, case_id: int, bpmn_id: str) -> HumanTask:
    """The open task row of a case for a diagram task (read straight from the database)."""
    with db.new_session(app) as session:
        task = session.scalar(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.bpmn_id == bpmn_id, HumanTask.state == "open"))
        assert task is not None, f"no open {bpmn_id} on case {case_id}"
        session.expunge(task)
        return task


def user_id(app, username: str) -> int:
    # A short session of our own: on SQLite every transaction takes the write lock (BEGIN
    # IMMEDIATE), so a session left open by the test would block the app's requests.
    with db.new_session(app) as session:
        return session.scalar(select(User.id).where(User.username == username))


def task_row(app, task_id: int) -> HumanTask:
    with db.new_session(app) as session:
        task = session.get(HumanTask, task_id)
        session.expunge(task)
        return task


def create_case(client, title: str = "某科技公司技术秘密被侵犯案", confidentiality: str = "confidential") -> int:
    """Open a case through the page; returns its id (from the redirect to the case page)."""
    response = post(client, "/cases/new", {"title": title, "confidentiality": confidentiality},
                    token_from="/cases/new")
    assert response.status_code == 303, text(response)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def claim_and_complete(client, task_id: int, data: dict):
    claimed = post(client, f"/tasks/{task_id}/claim", token_from=f"/tasks/{task_id}")
    assert claimed.status_code == 303
    return post(client, f"/tasks/{task_id}/complete", data, token_from=f"/tasks/{task_id}")


FACTS = {
    "party_name": "某某科技有限公司", "suspected_offence": "侵犯商业秘密罪", "loss_amount": "500000",
    "illegal_gain": "0", "bankruptcy_caused": "false", "other_major_loss": "false",
    "police_measures_needed": "false", "summary": "前员工离职后使用原单位技术秘密生产同类产品。",
    "signing_officers": ["samr_handler", "samr_handler2"],
}
