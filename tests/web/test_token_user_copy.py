"""The user a cached token gives each request (engine/access/tokens.py `_attached_copy`): built
without SQL, yet the same to the request's session as a user it loaded itself, so whatever an
engine service does with it (relationships, flushes, lazy loads) works as with a merged copy."""
from __future__ import annotations

from sqlalchemy import event, select

import engine
from models import Agency, Membership, User
from web.db import db

from .api_helpers import bearer, token_for


def _two_roles_in_one_agency(app) -> str:
    """A user with two memberships of one agency (the agency shared between them), and a token."""
    with db.new_session(app) as session:
        engine.create_user(session, "two_roles", "a long password 1", "Two Roles", "samr", ["handler", "head"])
    return token_for(app, "two_roles")


def _cached(app, token: str) -> None:
    response = app.test_client(use_cookies=False).get("/api/v1/tasks", headers=bearer(token))
    assert response.status_code == 200


def test_the_copy_is_persistent_unchanged_and_whole_without_sql(app):
    token = _two_roles_in_one_agency(app)
    _cached(app, token)
    statements: list[str] = []
    sql = db.state(app).engine
    with app.test_request_context():
        session = db.session

        def seen(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        event.listen(sql, "before_cursor_execute", seen)
        try:
            user = engine.user_for_token(session, token)
        finally:
            event.remove(sql, "before_cursor_execute", seen)
        assert statements == []
        assert user in session and not session.new and not session.dirty
        assert {(m.agency.code, m.role) for m in user.memberships} == {("samr", "handler"), ("samr", "head")}
        first, second = user.memberships
        assert first.agency is second.agency and first.agency in session
        assert first.user is user and second.user is user and first in session
        # The session's identity map answers for them, as for objects it loaded.
        assert session.get(User, user.id) is user and session.get(Agency, first.agency.id) is first.agency
        assert session.get(Membership, first.id) is first
        # And the database agrees with the copy (nothing stale was attached).
        session.expire(user)
        assert user.username == "two_roles" and len(user.memberships) == 2
        session.rollback()


def test_a_session_that_already_holds_the_user_gets_it_back(app):
    token = token_for(app, "samr_handler")
    _cached(app, token)
    with app.test_request_context():
        session = db.session
        loaded = session.scalar(select(User).where(User.username == "samr_handler"))
        assert engine.user_for_token(session, token) is loaded
        assert {(m.agency.code, m.role) for m in loaded.memberships} == {("samr", "handler")}
        session.rollback()


def test_each_request_changes_only_its_own_copy(app):
    token = _two_roles_in_one_agency(app)
    _cached(app, token)
    with app.test_request_context():
        first = engine.user_for_token(db.session, token)
        first.memberships[0].agency.name = "changed in one request only"
        first.memberships.pop()
        db.session.rollback()
    with app.test_request_context():
        second = engine.user_for_token(db.session, token)
        assert len(second.memberships) == 2
        assert second.memberships[0].agency.name != "changed in one request only"
