"""Wrong passwords make the address that sent them wait, longer each time, for that account only:
the account's owner elsewhere still logs in, an administrator can end the wait, and all of it is
on the system chain."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.access.logins import wait_after
from models import SYSTEM_CHAIN, AuditEvent, User
from models.people import LoginThrottle
from tests.conftest import password_for
from web.db import db

from .helpers import csrf_token, post, text

ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"
FAILED = "用户名或密码错误。"


def attempt(app, address: str, username: str, password: str | None = None) -> tuple[int, bool]:
    """A login POST from `address` in a fresh browser; (status, whether the failure text shows)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "username": username,
                                           "password": password or password_for(username)})
    return response.status_code, FAILED in text(response)


def events(app, event_type: str) -> list[AuditEvent]:
    with db.new_session(app) as session:
        return session.scalars(select(AuditEvent).where(
            AuditEvent.chain == SYSTEM_CHAIN, AuditEvent.event_type == event_type).order_by(AuditEvent.seq)).all()


def test_guessing_from_one_address_locks_out_nobody_else(app, clock):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_BACKOFF_SECONDS=60, LOGIN_LOCKOUT_MINUTES=15)
    unknown = attempt(app, ATTACKER, "no_such_user", "wrong-password")
    assert unknown == (401, True)
    for _ in range(3):
        assert attempt(app, ATTACKER, "samr_handler", "wrong-password") == unknown
    # That address now waits, even with the right password, and is told nothing more.
    assert attempt(app, ATTACKER, "samr_handler") == unknown
    # The owner, elsewhere, is not affected; nor are other accounts from the attacker's address.
    assert attempt(app, OWNER, "samr_handler")[0] == 302
    assert attempt(app, ATTACKER, "samr_head")[0] == 302
    [throttled] = events(app, "login_throttled")
    assert throttled.detail["address"] == ATTACKER and throttled.detail["username"] == "samr_handler"
    assert throttled.detail["failures"] == 3 and throttled.case_id is None

    clock.advance(seconds=61)  # the first wait is over
    assert attempt(app, ATTACKER, "samr_handler", "wrong-password") == unknown  # the 4th: 2 minutes
    clock.advance(seconds=61)
    assert attempt(app, ATTACKER, "samr_handler") == unknown
    clock.advance(seconds=60)
    assert attempt(app, ATTACKER, "samr_handler")[0] == 302  # the right password clears the count
    with db.new_session(app) as session:
        assert session.scalars(select(LoginThrottle).where(LoginThrottle.address == ATTACKER)).all() == []
    assert [e.detail["failures"] for e in events(app, "login_throttled")] == [3, 4]
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).output == "OK\n"


def test_the_wait_doubles_up_to_its_longest():
    first, longest = timedelta(minutes=1), timedelta(minutes=15)
    waits = [wait_after(n, 5, first, longest) for n in range(1, 12)]
    assert waits[:4] == [None] * 4
    assert [w.total_seconds() / 60 for w in waits[4:]] == [1, 2, 4, 8, 15, 15, 15]
    assert wait_after(10_000, 5, first, longest) == longest


def test_an_administrator_ends_the_wait(app, client_for):
    app.config.update(LOGIN_MAX_FAILURES=2)
    for _ in range(2):
        attempt(app, ATTACKER, "police_handler", "wrong-password")
    assert attempt(app, ATTACKER, "police_handler") == (401, True)
    with db.new_session(app) as session:
        user_id = session.scalar(select(User.id).where(User.username == "police_handler"))

    assert client_for("police_head").get("/admin/users/").status_code == 403
    admin = client_for("admin")
    page = text(admin.get("/admin/users/"))
    assert f"{ATTACKER} 等待至" in page
    assert post(admin, f"/admin/users/{user_id}/unlock", token_from="/admin/users/").status_code == 303
    assert attempt(app, ATTACKER, "police_handler")[0] == 302
    [unlocked] = events(app, "user_unlocked")
    assert unlocked.detail == {"user_id": user_id, "username": "police_handler", "addresses": 1}
    with db.new_session(app) as session:
        assert unlocked.actor_id == session.scalar(select(User.id).where(User.username == "admin"))


def test_the_unlock_command(app, runner):
    app.config.update(LOGIN_MAX_FAILURES=1)
    attempt(app, ATTACKER, "court_handler", "wrong-password")
    assert attempt(app, ATTACKER, "court_handler") == (401, True)
    result = runner.invoke(args=["users", "unlock", "court_handler"])
    assert result.exit_code == 0 and "1 address" in result.output
    assert attempt(app, ATTACKER, "court_handler")[0] == 302
    assert runner.invoke(args=["audit", "verify"]).output == "OK\n"


def test_old_failures_are_forgotten(app, clock):
    app.config.update(LOGIN_MAX_FAILURES=3)
    attempt(app, ATTACKER, "samr_liaison", "wrong-password")
    attempt(app, ATTACKER, "samr_liaison", "wrong-password")
    clock.advance(days=2)
    attempt(app, OWNER, "samr_head", "wrong-password")  # any failure sweeps the table
    with db.new_session(app) as session:
        assert [(r.address, r.failures) for r in session.scalars(select(LoginThrottle))] == [(OWNER, 1)]
