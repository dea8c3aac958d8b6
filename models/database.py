"""Engine and session construction for SQLite (development) and PostgreSQL (production)."""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
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
    connect_args = {}
    if make_url(url).get_driver_name() == "psycopg":
        connect_args["cursor_factory"] = _cursor_class()
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                           connect_args=connect_args)
    _ping_when_idle(engine)
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


# Set on a psycopg connection: whether its current transaction sent anything but a SELECT.
_WROTE = "liandong_wrote"
# libpq's transaction states (psycopg.pq.TransactionStatus), without importing psycopg where only
# SQLite is used: none open; one open and not failed.
_IDLE, _IN_TRANSACTION = 0, 2


@functools.cache
def _cursor_class() -> type:
    """psycopg's cursor, with two changes for the work every statement costs:

    - it notes on its connection whether the transaction wrote (`_WROTE`), for `close_session`.
      Noted by the driver, not by SQLAlchemy's `before_cursor_execute` and `begin` events: an
      engine with a listener for any connection event has SQLAlchemy dispatch every event of
      every statement and transaction, some 100 to 300 Python calls a request;
    - its `description` is built when first read (`_Description`). SQLAlchemy asks for it after
      every statement, but reads what it holds only the first time a compiled statement runs
      (its result's metadata is then kept with the statement), and psycopg builds a Column per
      result column on each asking: some 8 Python calls a column, 2,400 for the 11 requests of
      a three-task case, for lists no one reads."""
    import psycopg  # only PostgreSQL needs psycopg
    from psycopg.pq import ExecStatus

    # The statuses of a result that has rows, as psycopg's own `description` tells them.
    with_rows = frozenset((ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK))

    class Cursor(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            connection = self.connection
            if connection.pgconn.transaction_status == _IDLE:
                setattr(connection, _WROTE, False)  # this statement begins a transaction
            if not (isinstance(query, str) and query.startswith("SELECT")):
                setattr(connection, _WROTE, True)
            return super().execute(query, params, **kwargs)

        def executemany(self, query, params_seq, **kwargs):
            setattr(self.connection, _WROTE, True)
            return super().executemany(query, params_seq, **kwargs)

        @property
        def description(self):
            result = self.pgresult
            # None where psycopg's is None: no result, or one that has no rows to describe.
            if result is None or not (result.nfields or result.status in with_rows):
                return None
            return _Description(self, result)

        def described(self):
            """psycopg's own description of the current result, built now."""
            return super().description

    return Cursor


class _Description(Sequence):
    """A cursor's `description`, the same sequence of psycopg Columns, built from the cursor's
    result on first use. Valid, as a DB-API description is, until the cursor runs its next
    statement or closes: built after that, it would describe another result, so it refuses."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor, result) -> None:
        self._cursor, self._result = cursor, result
        self._columns: list | None = None

    def _built(self) -> list:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                raise RuntimeError("cursor.description read after the cursor ran another statement or closed")
            self._columns = self._cursor.described()
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields if self._columns is None else len(self._columns)

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self) -> Iterator:
        return iter(self._built())

    def __eq__(self, other) -> bool:
        return self._built() == (list(other) if isinstance(other, _Description) else other)

    def __repr__(self) -> str:
        return repr(self._built())


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
        if not connection.invalidated:
            driver = connection.connection.driver_connection
            assert driver is not None  # a connection not invalidated holds its driver connection
            # Unknown (no statement noted, another driver) counts as written.
            if not getattr(driver, _WROTE, True) and driver.pgconn.transaction_status == _IN_TRANSACTION:
                connection.commit()  # not a failed transaction either
    session.close()


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
