"""On a database built by the migrations, the audit trail is append-only for the application's
role: UPDATE, DELETE and TRUNCATE of audit events are refused, chain heads are never deleted and
only move forward, and a seal once set stays. Appending and sealing still work."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

import engine
from engine.access.audit import AUDIT_KEY
from engine.bootstrap import deploy_folder, ensure_agencies
from models import SYSTEM_CHAIN, AuditChain, make_engine, make_session_factory
from models.migrations import upgrade
from tests.conftest import START, WORKFLOWS

from .test_migrations import empty_url  # noqa: F401 - the fixture

KEY = b"a key of at least thirty-two bytes!!"


@pytest.fixture
def migrated(empty_url):
    sql = make_engine(empty_url)
    upgrade(sql)
    factory = make_session_factory(sql)
    factory.configure(info={"clock": engine.FixedClock(START)})
    with factory() as session:
        ensure_agencies(session)
        engine.create_user(session, "admin", "pw-admin-2026", "管理员", "office", ["admin"])
        engine.create_user(session, "samr_handler", "pw-samr-2026", "承办人", "samr", ["handler"])
        deploy_folder(session, WORKFLOWS)
    yield sql, factory
    sql.dispose()


REFUSED = [
    "UPDATE audit_event SET event_type = 'forged'",
    "UPDATE audit_event SET hash = prev_hash",
    "DELETE FROM audit_event",
    "DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)",
    "DELETE FROM audit_chain",
    "UPDATE audit_chain SET last_seq = last_seq - 1",
    "UPDATE audit_chain SET last_hash = 'f'",
    "UPDATE audit_chain SET name = 'renamed'",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_the_application_cannot_rewrite_the_trail(migrated, statement):
    sql, _factory = migrated
    with pytest.raises(DBAPIError, match=r"append-only|only move forward"), sql.begin() as connection:
        connection.execute(text(statement))
    with sql.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_event")) >= 2


def test_truncate_is_refused_on_postgresql(migrated):
    sql, _factory = migrated
    if sql.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    for table in ("audit_event", "audit_chain"):
        with pytest.raises(DBAPIError, match="append-only"), sql.begin() as connection:
            connection.execute(text(f"TRUNCATE {table} CASCADE"))


def test_appending_and_sealing_still_work_and_a_seal_stays(migrated):
    sql, factory = migrated
    factory.configure(info={"clock": engine.FixedClock(START), AUDIT_KEY: KEY})
    with factory() as session:
        assert engine.seal_audit(session) == [SYSTEM_CHAIN]
        handler = engine.find_user(session, "samr_handler")
        case = engine.create_case(session, handler, "触发器测试")
        assert engine.verify_audit(session) == []
        head = session.get(AuditChain, f"case:{case.id}")
        assert head.keyed_from == 1 and head.last_seq >= 3
        session.commit()
    with pytest.raises(DBAPIError, match="only move forward"), sql.begin() as connection:
        connection.execute(text("UPDATE audit_chain SET key_mac = NULL, keyed_from = NULL"))
    with factory() as session:
        assert session.scalar(select(AuditChain.key_mac).where(AuditChain.name == SYSTEM_CHAIN))
