"""The per-process token cache (engine/access/tokens.py TokenCache): repeated API requests with one
token skip the database, and every change to who the token stands for still takes effect, at
once in this process and within the cache's TTL when made elsewhere (another worker, SQL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, event, select, update

import engine
from engine.access.tokens import TokenCache, token_hash
from models import ApiToken, Membership, User
from web.db import DEFAULT_TOKEN_CACHE_SECONDS, db

from .api_helpers import bearer, token_for

TTL = timedelta(seconds=DEFAULT_TOKEN_CACHE_SECONDS)


def _statements(app, request) -> list[str]:
    """The SQL statements `request()` runs."""
    seen: list[str] = []

    def log(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sql = db.state(app).engine
    event.listen(sql, "before_cursor_execute", log)
    try:
        request()
    finally:
        event.remove(sql, "before_cursor_execute", log)
    return seen


def _elsewhere(app, statement) -> None:
    """A change made by another process: straight to the database, past this app's cache."""
    with db.new_session(app) as session:
        session.execute(statement)
        session.commit()


def test_a_token_seen_recently_costs_no_query(app):
    api, token = app.test_client(use_cookies=False), token_for(app, "samr_handler")
    first = _statements(app, lambda: api.get("/api/v1/tasks", headers=bearer(token)))
    again = _statements(app, lambda: api.get("/api/v1/tasks", headers=bearer(token)))
    assert any("api_token" in s for s in first)
    assert not any("api_token" in s or "membership" in s for s in again)
    assert len(again) < len(first)


def test_a_token_revoked_in_this_process_is_refused_at_once(app):
    api, token = app.test_client(use_cookies=False), token_for(app, "samr_handler")
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200  # now cached
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        engine.revoke_token(db.session, None, row.id)
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("change", ["revoke", "deactivate"])
def test_a_change_made_elsewhere_takes_effect_within_the_ttl(app, clock, change):
    api, token = app.test_client(use_cookies=False), token_for(app, "samr_handler")
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    if change == "revoke":
        _elsewhere(app, update(ApiToken).where(ApiToken.token_hash == token_hash(token))
                   .values(revoked_at=clock.now()))
    else:
        _elsewhere(app, update(User).where(User.username == "samr_handler").values(active=False))
    # The documented bound: this process may still trust what it read for up to the TTL...
    clock.advance(seconds=TTL.total_seconds() - 1)
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    # ...and not a moment longer.
    clock.advance(seconds=1)
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 401


def test_a_role_taken_away_elsewhere_is_gone_within_the_ttl(app, clock):
    api, token = app.test_client(use_cookies=False), token_for(app, "samr_handler")
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    with db.new_session(app) as session:
        user_id = session.scalar(select(User.id).where(User.username == "samr_handler"))
    _elsewhere(app, delete(Membership).where(Membership.user_id == user_id, Membership.role == "handler"))
    clock.advance(seconds=TTL.total_seconds())
    refused = api.post("/api/v1/cases", json={"title": "无权立案"}, headers=bearer(token))
    assert refused.status_code == 403


def test_without_the_cache_a_change_elsewhere_takes_effect_at_once(app, database_url, clock, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path / "uncached"))
    uncached = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "SECRET_KEY": "x", "TESTING": True,
                           "INSTANCE_PATH": str(tmp_path / "uncached"), "API_TOKEN_CACHE_SECONDS": 0})
    api, token = uncached.test_client(use_cookies=False), token_for(uncached, "samr_handler")
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    _elsewhere(uncached, update(ApiToken).where(ApiToken.token_hash == token_hash(token))
               .values(revoked_at=clock.now()))
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    db.state(uncached).engine.dispose()


def test_the_cached_user_is_never_the_one_a_request_changes(app):
    """Each request gets its own copy in its own session, so what one request does to its user
    object cannot leak into the next request or another thread."""
    api, token = app.test_client(use_cookies=False), token_for(app, "samr_handler")
    assert api.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    with app.test_request_context():
        first = engine.user_for_token(db.session, token)
        first.display_name = "changed in one request only"
        db.session.rollback()
    with app.test_request_context():
        second = engine.user_for_token(db.session, token)
        assert second is not first and second.display_name != "changed in one request only"
        assert {(m.agency.code, m.role) for m in second.memberships} == {("samr", "handler")}


# --- the cache alone ---------------------------------------------------------------------

AT = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def test_an_entry_expires_after_its_ttl_and_if_the_clock_goes_back():
    cache, user = TokenCache(timedelta(seconds=5)), User(username="u")
    cache.put("a", user, AT, cache.generation)
    assert cache.get("a", AT + timedelta(seconds=4)) is user
    assert cache.get("a", AT + timedelta(seconds=5)) is None
    cache.put("b", user, AT, cache.generation)
    assert cache.get("b", AT - timedelta(seconds=1)) is None


def test_a_lookup_that_overlaps_a_forget_is_not_kept():
    cache, user = TokenCache(timedelta(seconds=5)), User(username="u")
    generation = cache.generation  # a request starts reading the token...
    cache.forget("a")  # ...a revocation commits meanwhile...
    cache.put("a", user, AT, generation)  # ...and what the request read is not remembered
    assert cache.get("a", AT) is None


def test_the_cache_keeps_at_most_its_size():
    cache = TokenCache(timedelta(seconds=5), size=2)
    for name in "abc":
        cache.put(name, User(username=name), AT, cache.generation)
    assert cache.get("a", AT) is None and cache.get("b", AT) and cache.get("c", AT)
