"""Pooled PostgreSQL connections: one the server dropped while it sat idle in the pool is replaced
before a request uses it; one used moments ago is handed out without a round trip. A request's
transaction that only read ends with COMMIT, so psycopg keeps its prepared statements; one that
wrote without committing, or failed, is rolled back."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError

from models import Agency, close_session, database, make_engine, make_session_factory

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


# --- ending a request's transaction ------------------------------------------------------------

def _prepared(session) -> int:
    """Statements psycopg has prepared on this session's connection (PostgreSQL's own view)."""
    return session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))


@pytest.fixture
def one_connection(pg_database_url):
    """A session factory whose sessions all use the same pooled connection."""
    engine = make_engine(pg_database_url, pool_size=1, max_overflow=0)
    yield make_session_factory(engine)
    engine.dispose()


def test_a_read_only_request_keeps_the_prepared_statements(one_connection):
    read = text("SELECT count(*) FROM agency WHERE id > :n")
    sent = []
    event.listen(one_connection.kw["bind"], "before_cursor_execute", lambda *args: sent.append(args[2]))
    for _ in range(7):  # psycopg prepares a statement from its sixth run on (threshold 5)
        session = one_connection()
        assert session.scalar(read, {"n": 0}) > 0
        close_session(session)
    session = one_connection()
    assert _prepared(session) >= 1, "the read statement is still prepared on the server"
    close_session(session)
    assert not any(s.startswith("DEALLOCATE") for s in sent)


def test_a_request_that_wrote_without_committing_is_rolled_back(one_connection):
    session = one_connection()
    name = session.scalar(select(Agency.name).where(Agency.code == "samr"))
    assert name
    session.execute(update(Agency).where(Agency.code == "samr").values(name="改过的名字"))
    close_session(session)  # a view that forgot to commit (or caught an error) loses its write

    session = one_connection()
    session.add(Agency(code="pending", name="未写入的机构"))  # pending in the session, never flushed
    assert session.scalar(select(Agency.name).where(Agency.code == "samr")) == name
    close_session(session)

    session = one_connection()
    assert session.scalar(select(Agency.name).where(Agency.code == "samr")) == name
    close_session(session, failed=True)
    session = one_connection()
    assert session.scalar(select(func.count()).select_from(Agency).where(Agency.code == "pending")) == 0
    close_session(session)


def test_a_failed_read_is_rolled_back_and_the_connection_reused(one_connection):
    session = one_connection()
    with pytest.raises(DBAPIError):
        session.execute(text("SELECT 1 / 0"))
    close_session(session)  # the view answered an error without rolling back
    session = one_connection()
    assert session.scalar(text("SELECT 1")) == 1
    close_session(session)
