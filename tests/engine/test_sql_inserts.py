"""engine/runtime/sql.py's upserts, built once per table and columns: a row is created unless its
unique key is taken, and what the session holds unwritten is written first (as an INSERT of
the mapped class autoflushes), unless the caller turned autoflush off. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine import create_case
from engine.runtime.sql import insert_if_absent, insert_new_rows
from models import Agency, CaseParticipant, ProcessInstance, Timer
from tests.conftest import START


def _agency_id(session, code: str) -> int:
    return session.scalar(select(Agency.id).where(Agency.code == code))


def test_insert_if_absent_creates_once(session, users):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案", "confidential")
    court = _agency_id(session, "court")
    assert insert_if_absent(session, CaseParticipant, case_id=case.id, agency_id=court, joined_at=START,
                            role="observer")
    assert not insert_if_absent(session, CaseParticipant, case_id=case.id, agency_id=court, joined_at=START)
    session.commit()
    roles = session.scalars(select(CaseParticipant.role).where(CaseParticipant.case_id == case.id,
                                                               CaseParticipant.agency_id == court)).all()
    assert roles == ["observer"]


def test_insert_if_absent_writes_what_the_session_holds_first(session, users):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案", "confidential")
    court = _agency_id(session, "court")
    session.add(CaseParticipant(case_id=case.id, agency_id=court, joined_at=START, role="party"))
    # The pending row is flushed first, so the upsert finds its key taken.
    assert not insert_if_absent(session, CaseParticipant, case_id=case.id, agency_id=court, joined_at=START)
    session.commit()


def test_insert_if_absent_keeps_autoflush_off(session, users):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案", "confidential")
    court = _agency_id(session, "court")
    session.add(CaseParticipant(case_id=case.id, agency_id=court, joined_at=START, role="party"))
    with session.no_autoflush:
        assert insert_if_absent(session, CaseParticipant, case_id=case.id, agency_id=court, joined_at=START)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_insert_new_rows_leaves_out_taken_keys(session, users):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案", "confidential")
    instance_id = session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case.id))

    def row(guid: str, rule: str) -> dict:
        return {"instance_id": instance_id, "case_id": case.id, "task_guid": guid, "bpmn_id": "t", "rule": rule,
                "due_at": START, "due_provisional": False, "status": "pending", "created_at": START}

    insert_new_rows(session, Timer, [row("a", "P1D")])
    insert_new_rows(session, Timer, [row("a", "P9D"), row("b", "P2D"), row("c", "P3D")])
    session.commit()
    rules = dict(session.execute(select(Timer.task_guid, Timer.rule).where(Timer.instance_id == instance_id,
                                                                          Timer.task_guid.in_(list("abc")))).all())
    assert rules == {"a": "P1D", "b": "P2D", "c": "P3D"}
    assert session.scalar(select(func.count()).select_from(Timer).where(Timer.task_guid.in_(list("abc")))) == 3
