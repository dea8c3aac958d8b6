"""CSRF on every form, security headers on every response, user text always escaped."""
from __future__ import annotations

import re

import pytest

from .helpers import create_case, open_task, post, task_row, text

EXPECTED_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/login", "/static/style.css", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_security_headers_on_logged_in_pages(client_for):
    response = client_for("samr_handler").get("/")
    assert response.status_code == 200
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value


def test_login_without_csrf_token_is_rejected(client):
    response = client.post("/login", data={"username": "samr_handler", "password": "pw-samr_handler-2026"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still logged out


def test_task_action_without_csrf_token_is_rejected_and_changes_nothing(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    task = open_task(app, case_id, "register_facts")
    response = handler.post(f"/tasks/{task.id}/claim", data={})
    assert response.status_code == 400
    assert task_row(app, task.id).assignee_id is None


def test_every_form_carries_a_csrf_token(client_for):
    handler = client_for("samr_handler")
    for path in ("/", "/cases/new"):
        html = text(handler.get(path))
        # GET forms (the inbox filters) change nothing and must not leak a token into URLs.
        posting = len(re.findall(r'<form[^>]*method="post"', html, re.IGNORECASE))
        assert posting and posting == html.count('name="csrf_token"'), path
        assert html.count("<form") == posting + len(re.findall(r'<form[^>]*method="get"', html, re.I)), path


def test_script_in_a_case_title_is_shown_as_text(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler, title="<script>alert(1)</script>")
    for path in (f"/cases/{case_id}", "/cases/", "/"):
        html = text(handler.get(path))
        assert "<script>" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(handler.get(f"/cases/{case_id}"))


def test_no_inline_scripts_or_external_assets(client_for):
    html = text(client_for("samr_handler").get("/"))
    assert "<script" not in html
    assert "http://" not in html and "https://" not in html


def test_new_case_form_without_token_is_rejected(client_for):
    handler = client_for("samr_handler")
    response = handler.post("/cases/new", data={"title": "x", "confidentiality": "internal"})
    assert response.status_code == 400
    assert "表单已失效" in text(response)


def test_police_cannot_open_cases(client_for):
    police = client_for("police_handler")
    response = post(police, "/cases/new", {"title": "x", "confidentiality": "internal"}, token_from="/cases/new")
    assert response.status_code == 403
