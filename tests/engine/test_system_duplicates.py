"""A mechanism the system starts (the worker delivering a message another instance threw) while an
instance of it still runs on the case needs no user's confirmation, but is not silent either: the
triggering message is its recorded reason, audited and listed with the confirmed second starts.
The case: the procuratorate supervises a transferred case's filing on its own motion (立案监督), and
then the police miss their filing deadline, which 立案协助 sends as `filing_supervision_requested`.
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine import (
    create_case,
    deliver_pending,
    duplicate_starts,
    start_mechanism,
    verify_audit,
)
from engine.worker.timers import fire_due_timers
from models import AuditEvent, ProcessInstance, ProcessModel
from tests.conftest import SHANGHAI
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, RECEIPT, act, event_types, instance_of

SUPERVISION = "filing_supervision"


def _instances(session, case_id: int, key: str) -> list[int]:
    return list(session.scalars(
        select(ProcessInstance.id).join(ProcessModel, ProcessInstance.process_model_id == ProcessModel.id)
        .where(ProcessInstance.case_id == case_id, ProcessModel.key == key).order_by(ProcessInstance.id)))


def _at_police_review(session, users):
    case = create_case(session, users["samr_handler"], "某公司技术秘密案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    return case


def _deadline_missed(session, clock) -> None:
    """The police's three days to decide on filing pass; the worker fires the timer and delivers
    the filing-supervision request."""
    clock.set(datetime(2026, 3, 6, 8, 30, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1
    assert deliver_pending(session) == 1


def test_a_supervision_requested_while_one_runs_is_recorded_with_its_cause(session, users, clock):
    case = _at_police_review(session, users)
    transfer = instance_of(session, case.id).id
    own_motion = start_mechanism(session, users["procuratorate_handler"], case.id, SUPERVISION).id
    _deadline_missed(session, clock)

    supervisions = _instances(session, case.id, SUPERVISION)
    assert supervisions[0] == own_motion and len(supervisions) == 2
    [started] = duplicate_starts(session, users["samr_handler"], case)
    assert (started.event_type, started.actor_id, started.instance_id) == (
        "mechanism_duplicate_started", None, supervisions[1])
    assert started.detail["process"] == SUPERVISION and started.detail["running_instances"] == [own_motion]
    assert (started.detail["message"], started.detail["source_process"], started.detail["source_instance_id"]) == (
        "filing_supervision_requested", "case_transfer", transfer)
    assert f"case_transfer #{transfer}" in started.detail["reason"]
    assert "mechanism_duplicate_started" in event_types(session, case.id)
    # Supervisors do not read the reasons, as for a confirmed start.
    assert duplicate_starts(session, users["office_supervisor"], case) == []
    assert verify_audit(session, case.id) == []


def test_a_first_instance_started_by_a_message_is_no_duplicate(session, users, clock):
    case = _at_police_review(session, users)
    _deadline_missed(session, clock)
    assert len(_instances(session, case.id, SUPERVISION)) == 1
    assert session.scalars(select(AuditEvent).where(
        AuditEvent.event_type == "mechanism_duplicate_started")).all() == []
