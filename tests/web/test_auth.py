"""Logging in and out; a failed login never tells whether the user exists."""
from __future__ import annotations

from .helpers import csrf_token, login, post, text


def test_login_shows_the_inbox_with_the_users_name_and_agency(client):
    response = login(client, "samr_handler")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = text(client.get("/"))
    assert "王承办（市场监管）" in page
    assert "聊城市东昌府区市场监督管理局" in page


def test_wrong_password_and_unknown_user_get_the_same_generic_answer(client):
    wrong = login(client, "samr_handler", "not-the-password")
    unknown = login(client, "nobody_here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "用户名或密码错误。" in text(response)
    assert text(client.get("/", follow_redirects=True)).count("王承办") == 0


def test_pages_need_a_login(client):
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_returns_to_a_local_next_page_only(client):
    token = csrf_token(client, "/login")
    form = {"csrf_token": token, "username": "samr_head", "password": "pw-samr_head-2026"}
    response = client.post("/login?next=//evil.example/x", data=form)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    form["csrf_token"] = csrf_token(client, "/login")
    response = client.post("/login?next=/cases/", data=form)
    assert response.headers["Location"] == "/cases/"


def test_logout_ends_the_session(client):
    login(client, "samr_handler")
    response = post(client, "/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_logout_is_post_only(client):
    login(client, "samr_handler")
    assert client.get("/logout").status_code == 405
