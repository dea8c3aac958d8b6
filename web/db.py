"""The database for one app: an engine, a session factory bound to the app's clock, and one
session per request (or CLI command) kept in `flask.g` and closed at teardown.

Plain SQLAlchemy, not Flask-SQLAlchemy, because engine/ and models/ must stay Flask-free and
the engine's service functions take the session as an argument.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine import TOKEN_CACHE, Clock, SystemClock, TokenCache
from models import close_session, make_engine, make_session_factory

EXTENSION = "liandong_db"
# How long this process trusts what it read about an API token (engine/access/tokens.py): the most a
# revocation, deactivation or role change made by another process waits to take effect here.
# 0 looks every token up on every request.
DEFAULT_TOKEN_CACHE_SECONDS = 5


@dataclass
class _State:
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock


class Database:
    """Created once at module level and bound to each app with `init_app` (microblog habit)."""

    def init_app(self, app: Flask) -> None:
        sql_engine = make_engine(
            app.config["DATABASE_URL"],
            pool_size=app.config.get("DB_POOL_SIZE", 5),
            max_overflow=app.config.get("DB_MAX_OVERFLOW", 10),
        )
        clock = app.config.get("CLOCK") or SystemClock()
        factory = make_session_factory(sql_engine)
        # The engine reads "now" from session.info, so tests can hand the app a FixedClock.
        info: dict = {"clock": clock}
        seconds = float(app.config.get("API_TOKEN_CACHE_SECONDS", DEFAULT_TOKEN_CACHE_SECONDS))
        if seconds > 0:
            info[TOKEN_CACHE] = TokenCache(timedelta(seconds=seconds))
        factory.configure(info=info)
        app.extensions[EXTENSION] = _State(sql_engine, factory, clock)
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def state(app: Flask | None = None) -> _State:
        return (app or current_app).extensions[EXTENSION]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def clock(self) -> Clock:
        return self.state().clock

    @property
    def session(self) -> Session:
        """The session of the current request, opened on first use."""
        # Read many times a request: the context's globals are looked up once here, not once
        # per `g.` access.
        app_globals = g._get_current_object()
        session = getattr(app_globals, "db_session", None)
        if session is None:
            session = app_globals.db_session = self.state().factory()
        return session

    def new_session(self, app: Flask | None = None) -> Session:
        """A session of its own, for a background thread that outlives any request."""
        return self.state(app).factory()

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            close_session(session, failed=_exc is not None)


db = Database()
