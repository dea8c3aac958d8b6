"""Personal API tokens from the profile page and the command line; `liandong db`."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import ApiToken, AuditEvent
from models.migrations import head_revision
from web.db import db

from .api_helpers import bearer
from .helpers import csrf_token, post, text

TOKEN = re.compile(r'<code id="new-token">(ld_[^<]+)</code>')


def test_profile_creates_a_token_shown_once_and_revokes_it(app, client_for):
    browser = client_for("police_liaison")
    assert "您还没有令牌" in text(browser.get("/profile")) or "You have no tokens" in text(browser.get("/profile?lang=en"))
    created = post(browser, "/profile/tokens", {"name": "公安案件系统"}, token_from="/profile")
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    token = TOKEN.search(text(created)).group(1)
    page = text(browser.get("/profile"))
    assert token not in page and "公安案件系统" in page and token[:9] in page

    api = app.test_client(use_cookies=False)
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    with db.new_session(app) as session:
        row = session.scalar(select(ApiToken))
        events = session.scalars(select(AuditEvent.event_type)).all()
    assert "token_created" in events
    revoked = post(browser, f"/profile/tokens/{row.id}/revoke", token_from="/profile")
    assert revoked.status_code == 303
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 401


def test_a_token_name_is_required(client_for):
    browser = client_for("samr_handler")
    response = post(browser, "/profile/tokens", {"name": "  "}, token_from="/profile")
    assert response.status_code == 422 and 'id="new-token"' not in text(response)


def test_nobody_revokes_another_users_token(app, client_for):
    owner = client_for("samr_handler")
    post(owner, "/profile/tokens", {"name": "mine"}, token_from="/profile")
    with db.new_session(app) as session:
        token_id = session.scalar(select(ApiToken.id))
    other = client_for("samr_head")
    response = other.post(f"/profile/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(other, "/profile")})
    assert response.status_code == 404
    with db.new_session(app) as session:
        assert session.get(ApiToken, token_id).revoked_at is None


def test_profile_needs_login(client):
    assert client.get("/profile").status_code == 302


def test_token_commands(app, runner):
    created = runner.invoke(args=["token", "create", "court_handler", "--name", "法院系统"])
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert app.test_client().get("/api/v1/cases", headers=bearer(token)).status_code == 200
    listed = runner.invoke(args=["token", "list", "court_handler"])
    assert "法院系统" in listed.output and token not in listed.output
    token_id = listed.output.split("\t", 1)[0]
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert app.test_client().get("/api/v1/cases", headers=bearer(token)).status_code == 401
    missing = runner.invoke(args=["token", "create", "nobody"])
    assert missing.exit_code == 2 and "nobody" in missing.stderr


def test_db_commands_migrate_a_fresh_database(tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite'}", "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    try:
        assert "database: (none)" in runner.invoke(args=["db", "current"]).output
        upgraded = runner.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0 and upgraded.output == f"upgraded: at revision {head_revision()}\n"
        assert runner.invoke(args=["db", "upgrade"]).output.startswith("unchanged")
        init = runner.invoke(args=["init"])
        assert init.exit_code == 0 and "schema unchanged" in init.output
    finally:
        db.state(app).engine.dispose()
