"""`liandong audit verify` against rows changed behind the engine's back: every edit, deletion
and reordering is reported with exit status 1, on a case's chain and on the system chain, where
administrative actions (users, deploys, calendar edits, lockouts) are recorded."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

import engine
from models import SYSTEM_CHAIN, AuditEvent, User, case_chain
from tests.helpers import APPROVE_TRANSFER, FACTS_500K, act
from web.db import db

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture
def case_id(app):
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = engine.create_case(session, users["samr_handler"], "审计命令测试")
        act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
        act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
        return case.id


def tamper(app, *statements: tuple[str, dict]) -> None:
    with db.new_session(app) as session:
        for sql, params in statements:
            session.execute(text(sql), params)
        session.commit()


def event_id(app, chain: str, seq: int) -> int:
    with db.new_session(app) as session:
        return session.scalar(select(AuditEvent.id).where(AuditEvent.chain == chain, AuditEvent.seq == seq))


def last_seq(app, chain: str) -> int:
    with db.new_session(app) as session:
        return max(session.scalars(select(AuditEvent.seq).where(AuditEvent.chain == chain)))


EDIT = "UPDATE audit_event SET event_type = 'task_cancelled' WHERE id = :id"
EDIT_HASH = "UPDATE audit_event SET hash = :hash WHERE id = :id"
DELETE = "DELETE FROM audit_event WHERE id = :id"
MOVE = "UPDATE audit_event SET seq = :seq WHERE id = :id"


def _tampering(kind: str, app, chain: str):
    """Apply one kind of tampering to `chain`; returns the seq where verify must report it."""
    a, b, last = event_id(app, chain, 2), event_id(app, chain, 3), last_seq(app, chain)
    if kind == "edit":
        tamper(app, (EDIT, {"id": a}))
        return 2
    if kind == "rehash":
        tamper(app, (EDIT_HASH, {"id": a, "hash": "f" * 64}))
        return 2
    if kind == "delete":
        tamper(app, (DELETE, {"id": a}))
        return 2
    if kind == "delete_last":
        tamper(app, (DELETE, {"id": event_id(app, chain, last)}))
        return last
    if kind == "reorder":
        tamper(app, (MOVE, {"id": a, "seq": -1}), (MOVE, {"id": b, "seq": 2}), (MOVE, {"id": a, "seq": 3}))
        return 2
    raise AssertionError(kind)


KINDS = ["edit", "rehash", "delete", "delete_last", "reorder"]


def test_untouched_trail_verifies(app, runner, case_id):
    assert runner.invoke(args=["audit", "verify"]).output == "OK\n"
    result = runner.invoke(args=["audit", "verify", "--case", str(case_id)])
    assert (result.exit_code, result.output) == (0, "OK\n")


@pytest.mark.parametrize("kind", KINDS)
def test_tampering_with_a_case_chain_is_reported(app, runner, case_id, kind):
    seq = _tampering(kind, app, case_chain(case_id))
    for args in (["audit", "verify"], ["audit", "verify", "--case", str(case_id)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert f"case:{case_id}: event {seq}" in result.output
        assert "system" not in result.output


@pytest.mark.parametrize("kind", KINDS)
def test_tampering_with_the_system_chain_is_reported(app, runner, case_id, kind):
    seq = _tampering(kind, app, SYSTEM_CHAIN)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"system: event {seq}" in result.output
    # A case's own check does not look at the system chain.
    assert runner.invoke(args=["audit", "verify", "--case", str(case_id)]).exit_code == 0


def test_administrative_actions_are_on_the_system_chain(app, runner, tmp_path):
    before = last_seq(app, SYSTEM_CHAIN)
    added = runner.invoke(args=["users", "add", "court_handler2", "--agency", "court", "--role", "handler",
                                "--name", "新法官", "--password-stdin"], input="a-long-password\n")
    assert added.exit_code == 0, added.output
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    changed = folder / "case_transfer.bpmn"
    changed.write_text(changed.read_text(encoding="utf-8").replace('name="立案协助"', 'name="立案协助v3"'),
                       encoding="utf-8")
    assert runner.invoke(args=["deploy", str(changed)]).exit_code == 0
    with db.new_session(app) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        engine.set_calendar_day(session, admin, date(2027, 10, 1), False, "国庆节")
    with db.new_session(app) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.chain == SYSTEM_CHAIN,
                                                          AuditEvent.seq > before).order_by(AuditEvent.seq)).all()
        assert [e.event_type for e in events] == ["user_created", "process_model_deployed", "calendar_day_set"]
        assert all(e.case_id is None for e in events)
    assert runner.invoke(args=["audit", "verify"]).output == "OK\n"
