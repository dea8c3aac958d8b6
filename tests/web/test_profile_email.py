"""The mail address notifications go to, set by each user on their profile page."""
from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, User
from web.db import db

from .helpers import field_html, post, text


def stored(app, username: str) -> str | None:
    with db.new_session(app) as session:
        return session.scalar(select(User.email).where(User.username == username))


def test_a_user_sets_changes_and_clears_their_address(app, client_for):
    browser = client_for("police_liaison")
    assert "邮件通知" in text(browser.get("/profile"))
    saved = post(browser, "/profile/email", {"email": " liaison@police.example.gov.cn "}, token_from="/profile")
    assert saved.status_code == 303
    assert stored(app, "police_liaison") == "liaison@police.example.gov.cn"
    assert 'value="liaison@police.example.gov.cn"' in text(browser.get("/profile"))
    assert stored(app, "police_head") is None, "only the user's own address changes"

    assert post(browser, "/profile/email", {"email": ""}, token_from="/profile").status_code == 303
    assert stored(app, "police_liaison") is None
    with db.new_session(app) as session:
        details = session.scalars(select(AuditEvent.detail).where(AuditEvent.event_type == "email_set")).all()
    # The address itself is personal data: the audit says only that one was set or cleared.
    assert details == [{"has_email": True}, {"has_email": False}]


def test_a_malformed_address_is_refused_next_to_its_field_and_nothing_changes(app, client_for):
    browser = client_for("samr_handler")
    post(browser, "/profile/email", {"email": "handler@samr.example.gov.cn"}, token_from="/profile")
    refused = post(browser, "/profile/email", {"email": "not an address"}, token_from="/profile")
    assert refused.status_code == 422
    field = field_html(text(refused), "email")
    assert "请输入邮箱地址" in field and 'value="not an address"' in field
    assert stored(app, "samr_handler") == "handler@samr.example.gov.cn"


def test_setting_an_address_needs_login_and_a_csrf_token(client, client_for):
    assert client.post("/profile/email", data={"email": "x@y.cn"}).status_code in (302, 400, 401)
    browser = client_for("samr_handler")
    assert browser.post("/profile/email", data={"email": "x@y.cn"}).status_code == 400
