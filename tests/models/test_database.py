"""Pooled PostgreSQL connections: one the server dropped while it sat idle in the pool is replaced
before a request uses it; one used moments ago is handed out without a round trip."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from models import database, make_engine

pytestmark = pytest.mark.postgres


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _terminate(engine, pid: int) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()


def test_a_connection_dropped_while_idle_is_replaced(pg_database_url, monkeypatch):
    engine = make_engine(pg_database_url, pool_size=1, max_overflow=1)
    killer = make_engine(pg_database_url)
    try:
        dropped = _backend_pid(engine)
        _terminate(killer, dropped)
        monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)
        # The next request finds the server's side gone, gets a new connection and succeeds.
        assert _backend_pid(engine) != dropped
    finally:
        engine.dispose()
        killer.dispose()


def test_a_recently_used_connection_is_not_pinged(pg_database_url):
    engine = make_engine(pg_database_url)
    statements = []
    try:
        _backend_pid(engine)
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        pinged = []
        original = engine.dialect.do_ping
        engine.dialect.do_ping = lambda dbapi_connection: pinged.append(1) or original(dbapi_connection)
        _backend_pid(engine)
        assert pinged == [] and len(statements) == 1
    finally:
        engine.dispose()
