"""Engine and session construction for SQLite (development) and PostgreSQL (production)."""
from __future__ import annotations

import time

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out, and
# replaced if the server dropped it (a restart, a proxy's idle timeout). One used more recently is
# handed out as it is: pinging on every checkout (`pool_pre_ping`) costs each request a round trip,
# and a connection that breaks anyway is invalidated by its failing statement as usual.
IDLE_PING_SECONDS = 10.0


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 10, echo: bool = False) -> Engine:
    """Create a SQLAlchemy engine with the settings each backend needs for safe concurrent writes."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
    _ping_when_idle(engine)
    _note_writes(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (SQLAlchemy's documented
            # pessimistic-disconnect hook).
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


# Set on a connection's info once its transaction sent anything but a SELECT.
_WROTE = "liandong_wrote"


def _note_writes(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _began(connection):
        connection.info.pop(_WROTE, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _executing(connection, _cursor, statement, *_args):
        if not statement.startswith("SELECT"):
            connection.info[_WROTE] = True


def close_session(session: Session, failed: bool = False) -> None:
    """Close a request's session, ending its transaction. On PostgreSQL a transaction that only
    read (sent nothing but SELECTs; anything else counts as a write) and did not fail ends with
    COMMIT instead of ROLLBACK: the same to the database, but psycopg forgets its prepared
    statements at every ROLLBACK (and sends DEALLOCATE ALL), so rolling back every read request
    would have the busiest statements parsed and planned again and again. The COMMIT is the
    session's connection's, not the session's: nothing pending in the session is flushed or
    written, exactly as if it had been rolled back; and the connection then has no transaction
    left for closing the session to roll back."""
    if not failed and session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        connection = session.connection()
        if not connection.info.get(_WROTE) and not connection.invalidated:
            driver = connection.connection.driver_connection
            assert driver is not None  # a connection not invalidated holds its driver connection
            if driver.pgconn.transaction_status == _IN_TRANSACTION:  # not a failed one
                connection.commit()
    session.close()


# libpq's PQTRANS_INTRANS: a transaction open and not failed (psycopg.pq.TransactionStatus.INTRANS,
# without importing psycopg where only SQLite is used).
_IN_TRANSACTION = 2


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite starts transactions lazily and only before writes, so two writers can both read a
    # row and then collide. Taking the write lock at BEGIN (IMMEDIATE) serialises writers up front;
    # WAL keeps readers of committed data unblocked.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions keep loaded objects usable after commit (pages render after the service commits)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
