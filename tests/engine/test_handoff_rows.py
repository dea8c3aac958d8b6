"""A task opened for another agency (the transfer handed from SAMR to the police) is written
without reading that agency: once its code's id is known the row needs only the id, and the
agency is loaded when something reads the row's lane. On SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import event, select

from engine import claim_task, complete_task, create_case
from models import HumanTask, HumanTaskState, User
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, act, open_task


def test_a_hand_off_opens_the_other_agencys_task_without_reading_it(db, users, session):
    engine_, factory = db
    case = create_case(session, users["samr_handler"], "某公司配方被盗案", "confidential")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    # Another transfer first, so that the police's agency id is known by its code.
    other = create_case(session, users["samr_handler"], "某公司图纸被盗案", "confidential")
    act(session, users["samr_handler"], other.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], other.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], other.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    task_id = open_task(session, case.id, "approve_outgoing_handoff").id
    session.commit()  # end the read: SQLite lets one writer in

    # A session of its own holding only SAMR's liaison (and SAMR through the memberships).
    fresh = factory()
    liaison = fresh.scalar(select(User).where(User.username == "samr_liaison"))
    assert liaison.lanes
    claim_task(fresh, liaison, task_id)
    seen: list[str] = []
    listener = lambda conn, cursor, statement, params, context, many: seen.append(statement)  # noqa: E731
    event.listen(engine_, "before_cursor_execute", listener)
    try:
        complete_task(fresh, liaison, task_id, APPROVE_HANDOFF)
    finally:
        event.remove(engine_, "before_cursor_execute", listener)
    # (The documents and the procuratorate's copy look agencies up by code on their own.)
    assert not [s for s in seen if "FROM agency" in s and "agency.id = " in s], seen

    receipt = fresh.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.bpmn_id == "accept_receipt"))
    assert receipt.state == HumanTaskState.OPEN
    assert receipt.lane == "police.liaison"  # the agency, loaded when read
    fresh.close()
