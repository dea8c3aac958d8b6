"""Login hardening: account lockout and per-address throttling that never reveal whether a user
exists, session cookie flags, and a CSP without inline code."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import SYSTEM_CHAIN, AuditEvent, User
from web import create_app
from web.db import db

from .helpers import csrf_token, login, text

FLASH = re.compile(r'<p class="flash error" role="status">([^<]*)</p>')


def attempt(client, username: str, password: str):
    """A login POST; returns (status, the flashed message)."""
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                           "username": username, "password": password})
    match = FLASH.search(text(response))
    return response.status_code, match.group(1) if match else None


def user_row(app, username: str) -> User:
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == username))
        session.expunge(user)
        return user


def test_lockout_after_repeated_failures_looks_like_any_failed_login(app, client, clock):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_MINUTES=15)
    unknown = attempt(client, "no_such_user", "whatever-password")
    assert unknown == (401, "用户名或密码错误。")
    for _ in range(3):
        assert attempt(client, "samr_handler", "wrong-password") == unknown
    locked = user_row(app, "samr_handler")
    assert locked.locked_until is not None and locked.failed_logins == 0
    # The right password is refused while locked, with the same status and words.
    assert attempt(client, "samr_handler", "pw-samr_handler-2026") == unknown
    assert client.get("/").status_code == 302

    with db.new_session(app) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.chain == SYSTEM_CHAIN)
                                .order_by(AuditEvent.seq.desc())).first()
        assert event.event_type == "user_locked" and event.detail["username"] == "samr_handler"
        assert event.case_id is None

    clock.advance(minutes=16)
    assert login(client, "samr_handler").status_code == 302
    assert user_row(app, "samr_handler").locked_until is None
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_good_login_clears_the_count(app, client):
    app.config.update(LOGIN_MAX_FAILURES=3)
    for _ in range(2):
        attempt(client, "samr_head", "wrong-password")
    assert user_row(app, "samr_head").failed_logins == 2
    assert login(client, "samr_head").status_code == 302
    assert user_row(app, "samr_head").failed_logins == 0


def test_login_attempts_are_throttled_per_address_whoever_is_named(app, client):
    app.config.update(LOGIN_RATE_LIMIT="3 per minute")
    assert attempt(client, "samr_handler", "wrong-password")[0] == 401
    assert attempt(client, "no_such_user", "wrong-password")[0] == 401
    assert attempt(client, "samr_head", "wrong-password")[0] == 401
    for username in ("samr_handler", "no_such_user"):
        response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                               "username": username, "password": "pw"})
        assert response.status_code == 429
        assert "尝试次数过多" in text(response)
    assert client.get("/login").status_code == 200  # the page itself is not throttled
    assert user_row(app, "samr_handler").failed_logins == 1  # throttled tries never reached it


def test_session_cookie_is_httponly_and_lax(client):
    response = login(client, "samr_handler")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_when_served_over_https(database_url, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("LIANDONG_HTTPS", "1")
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "SECRET_KEY": "k", "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    try:
        client = app.test_client()
        response = login(client, "samr_handler")
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        db.state(app).engine.dispose()


@pytest.mark.parametrize("path", ["/login", "/", "/cases/"])
def test_csp_allows_no_inline_code(client_for, path):
    policy = client_for("samr_handler").get(path).headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget(database_url, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "SECRET_KEY": "k", "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "TRUSTED_PROXIES": 1,
                      "LOGIN_RATE_LIMIT": "2 per minute"})
    try:
        client = app.test_client()
        token = csrf_token(client, "/login")

        def attempt_from(address: str) -> int:
            return client.post("/login", headers={"X-Forwarded-For": address}, data={
                "csrf_token": token, "username": "nobody", "password": "wrong-password"}).status_code

        assert [attempt_from("203.0.113.5") for _ in range(3)] == [401, 401, 429]
        assert attempt_from("198.51.100.7") == 401
    finally:
        db.state(app).engine.dispose()
