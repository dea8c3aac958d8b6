"""Login hardening: per-address throttling that never reveals whether a user exists, session
cookie flags, and a CSP without inline code (the per-account back-off: test_login_throttle.py)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models.people import LoginThrottle
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
    with db.new_session(app) as session:  # throttled tries never reached the account's count
        assert session.scalar(select(LoginThrottle.failures)) == 1


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
