"""Sessions end on the server: a copy of a session cookie is refused after logout, a password
change, deactivation or an administrator ending the user's sessions, and after the idle and
absolute lifetimes; API tokens expire and show their last use."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import SYSTEM_CHAIN, ApiToken, AuditEvent, User
from tests.conftest import password_for
from web.db import db

from .api_helpers import bearer
from .helpers import csrf_token, login, post, text

TOKEN = re.compile(r'<code id="new-token">(ld_[^<]+)</code>')


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str):
    """A new browser that presents a saved session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def refused(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def system_events(app, event_type: str) -> list[AuditEvent]:
    with db.new_session(app) as session:
        return session.scalars(select(AuditEvent).where(
            AuditEvent.chain == SYSTEM_CHAIN, AuditEvent.event_type == event_type).order_by(AuditEvent.seq)).all()


def user_id(app, username: str) -> int:
    with db.new_session(app) as session:
        return session.scalar(select(User.id).where(User.username == username))


def test_a_cookie_replayed_after_logout_is_sent_to_the_login_page(app, client_for):
    browser = client_for("samr_handler")
    saved = cookie_of(browser)
    assert replay(app, saved).get("/cases/").status_code == 200

    assert post(browser, "/logout").status_code == 302
    assert refused(browser.get("/cases/"))
    assert refused(replay(app, saved).get("/cases/"))
    assert refused(replay(app, saved).get("/profile"))
    [ended] = system_events(app, "sessions_ended")
    assert ended.detail["reason"] == "logout" and ended.detail["username"] == "samr_handler"
    # Logging in again works, with a new cookie; the old one stays dead.
    again = app.test_client()
    assert login(again, "samr_handler").status_code == 302
    assert again.get("/cases/").status_code == 200
    assert refused(replay(app, saved).get("/cases/"))
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).output == "OK\n"


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client_for):
    laptop, phone = client_for("police_handler"), client_for("police_handler")
    saved = cookie_of(laptop)
    wrong = post(laptop, "/profile/password", {"current_password": "nope", "new_password": "a-new-password"},
                 token_from="/profile")
    assert wrong.status_code == 422 and "不是您当前的密码" in text(wrong)
    short = post(laptop, "/profile/password", {"current_password": password_for("police_handler"),
                                               "new_password": "short"}, token_from="/profile")
    assert short.status_code == 422

    changed = post(laptop, "/profile/password", {"current_password": password_for("police_handler"),
                                                 "new_password": "a-new-password"}, token_from="/profile")
    assert changed.status_code == 303
    assert laptop.get("/cases/").status_code == 200, "the browser that changed it stays logged in"
    assert refused(phone.get("/cases/"))
    assert refused(replay(app, saved).get("/cases/"))
    assert login(app.test_client(), "police_handler").status_code == 401
    assert login(app.test_client(), "police_handler", "a-new-password").status_code == 302
    assert [e.detail["username"] for e in system_events(app, "password_changed")] == ["police_handler"]


def test_an_administrator_ends_a_users_sessions_and_deactivates_them(app, client_for):
    victim, admin = client_for("samr_liaison"), client_for("admin")
    saved = cookie_of(victim)
    page = admin.get("/admin/users/")
    assert page.status_code == 200 and "samr_liaison" in text(page)
    target = user_id(app, "samr_liaison")

    assert post(admin, f"/admin/users/{target}/end-sessions", token_from="/admin/users/").status_code == 303
    assert refused(victim.get("/cases/")) and refused(replay(app, saved).get("/"))
    assert system_events(app, "sessions_ended")[-1].detail["reason"] == "administrator"

    victim = app.test_client()
    assert login(victim, "samr_liaison").status_code == 302
    with app.app_context():
        import engine

        user = db.session.scalar(select(User).where(User.username == "samr_liaison"))
        _row, token = engine.create_token(db.session, user, "联络系统")
    api = app.test_client(use_cookies=False)
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    assert post(admin, f"/admin/users/{target}/deactivate", token_from="/admin/users/").status_code == 303
    assert refused(victim.get("/cases/"))
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert login(app.test_client(), "samr_liaison").status_code == 401
    assert [e.event_type for e in system_events(app, "user_deactivated")] == ["user_deactivated"]

    assert post(admin, f"/admin/users/{target}/activate", token_from="/admin/users/").status_code == 303
    assert login(app.test_client(), "samr_liaison").status_code == 302
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).output == "OK\n"


def test_only_administrators_manage_accounts(app, client_for):
    supervisor = client_for("office_supervisor")
    target = user_id(app, "samr_handler")
    assert supervisor.get("/admin/users/").status_code == 403
    response = supervisor.post(f"/admin/users/{target}/end-sessions",
                               data={"csrf_token": csrf_token(supervisor, "/profile")})
    assert response.status_code == 403
    admin = client_for("admin")
    own = user_id(app, "admin")
    assert admin.post(f"/admin/users/{own}/deactivate",
                      data={"csrf_token": csrf_token(admin, "/profile")}).status_code == 403


def test_an_idle_session_ends_and_a_busy_one_lasts_until_its_maximum(app, client_for, clock):
    app.config.update(SESSION_IDLE_MINUTES=30, SESSION_MAX_HOURS=2)
    idle = client_for("samr_head")
    clock.advance(minutes=31)
    assert refused(idle.get("/cases/"))

    busy = client_for("samr_head")
    for _ in range(5):  # 100 minutes, never 30 without a request
        clock.advance(minutes=20)
        assert busy.get("/cases/").status_code == 200
    clock.advance(minutes=21)  # 121 minutes after logging in
    assert refused(busy.get("/cases/"))


def test_a_cookie_from_before_epochs_is_refused(app, client_for):
    # Flask-Login's own format (the user id alone) as cookies made before this change carry it.
    browser = client_for("samr_handler")
    with browser.session_transaction() as session:
        session["_user_id"] = str(user_id(app, "samr_handler"))
    assert refused(browser.get("/cases/"))


def test_tokens_expire_and_show_their_last_use(app, client_for, clock):
    browser = client_for("court_handler")
    created = post(browser, "/profile/tokens", {"name": "法院系统", "days": "30"}, token_from="/profile")
    assert created.status_code == 200
    token = TOKEN.search(text(created)).group(1)
    api = app.test_client(use_cookies=False)
    clock.advance(days=10)
    assert api.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    with db.new_session(app) as session:
        row = session.scalar(select(ApiToken))
        assert row.last_used_at == clock.now()
        assert (row.expires_at - row.created_at).days == 30

    clock.advance(days=21)
    response = api.get("/api/v1/cases", headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.get_json()["detail"]
    browser = client_for("court_handler")  # the old login ended long ago (idle)
    page = text(browser.get("/profile"))
    assert "已过期" in page

    too_long = post(browser, "/profile/tokens", {"name": "永久", "days": "36500"}, token_from="/profile")
    assert too_long.status_code == 422 and 'id="new-token"' not in text(too_long)
    default = post(browser, "/profile/tokens", {"name": "默认"}, token_from="/profile")
    assert default.status_code == 200
    with db.new_session(app) as session:
        newest = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
        assert (newest.expires_at - newest.created_at).days == 365


def test_a_cached_token_stops_at_its_expiry(app, clock):
    with app.app_context():
        import engine

        user = db.session.scalar(select(User).where(User.username == "samr_handler"))
        _row, token = engine.create_token(db.session, user, "短期", days=1)
    api = app.test_client(use_cookies=False)
    clock.advance(hours=23, minutes=59, seconds=58)
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    clock.advance(seconds=3)  # within the cache's 5 seconds, past the expiry
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 401


def test_account_commands(app, runner):
    browser = app.test_client()
    login(browser, "police_head")
    assert runner.invoke(args=["users", "end-sessions", "police_head"]).exit_code == 0
    assert refused(browser.get("/cases/"))
    assert runner.invoke(args=["users", "set-password", "police_head", "--password-stdin"],
                         input="a-fresh-password\n").exit_code == 0
    assert login(app.test_client(), "police_head", "a-fresh-password").status_code == 302
    assert runner.invoke(args=["users", "deactivate", "police_head"]).exit_code == 0
    assert login(app.test_client(), "police_head", "a-fresh-password").status_code == 401
    assert runner.invoke(args=["users", "activate", "police_head"]).exit_code == 0
    missing = runner.invoke(args=["users", "deactivate", "nobody"])
    assert missing.exit_code == 2 and "nobody" in missing.stderr

    created = runner.invoke(args=["token", "create", "police_head", "--days", "7"])
    assert created.exit_code == 0, created.output
    listed = runner.invoke(args=["token", "list", "police_head"]).output
    assert listed.count("\t") == 6
    refused_days = runner.invoke(args=["token", "create", "police_head", "--days", "4000"])
    assert refused_days.exit_code == 2 and "days" in refused_days.stderr
    assert [e.detail["reason"] for e in system_events(app, "sessions_ended")] == ["administrator"]
    assert len(system_events(app, "password_reset")) == len(system_events(app, "user_deactivated")) == 1
    assert runner.invoke(args=["audit", "verify"]).output == "OK\n"
