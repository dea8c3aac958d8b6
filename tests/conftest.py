"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when configured),
seeded with the district's agencies, one user per role and the deployed workflows/ folder.

Seeding (argon2 hashes, BPMN parsing) is done once per backend into a template, which each test
copies: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL.
"""
from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from engine import FixedClock, create_user
from engine.bootstrap import DEMO_USERS, create_schema, deploy_folder, ensure_agencies
from models import User, make_engine, make_session_factory

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
PG_URL = os.environ.get("LIANDONG_TEST_PG_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday, a working day, 09:00 in Shanghai.
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def password_for(username: str) -> str:
    return f"pw-{username}-2026"


def _seed(url: str) -> None:
    engine = make_engine(url)
    create_schema(engine)
    session = make_session_factory(engine)(info={"clock": FixedClock(START)})
    ensure_agencies(session)
    for username, display, agency, roles in DEMO_USERS:
        create_user(session, username, password_for(username), display, agency, roles)
    deploy_folder(session, WORKFLOWS)
    session.close()
    engine.dispose()


def _admin_engine():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template():
    if not PG_URL:
        pytest.skip("LIANDONG_TEST_PG_URL is not set")
    name = f"liandong_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    _seed(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _database_url(backend: str, request, tmp_path) -> str:
    if backend == "sqlite":
        path = tmp_path / "liandong.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    template = request.getfixturevalue("postgres_template")
    name = f"liandong_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()

    def drop():
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    """A seeded database of its own for this test, on each configured backend."""
    return _database_url(backend, request, tmp_path)


@pytest.fixture
def pg_database_url(request, tmp_path) -> str:
    """A seeded PostgreSQL database for tests that are only meaningful there (concurrency)."""
    return _database_url("postgres", request, tmp_path)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db(database_url, clock):
    """(engine, session factory) bound to the test's clock."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    factory.configure(info={"clock": clock})
    yield engine, factory
    engine.dispose()


@pytest.fixture
def session(db):
    s = db[1]()
    yield s
    s.close()


@pytest.fixture
def users(session) -> dict[str, User]:
    """The demo users by username."""
    return {u.username: u for u in session.scalars(select(User))}
