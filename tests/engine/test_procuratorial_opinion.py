"""检察意见 (reverse linkage) driven through the engine on the real diagram with the demo users."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import Forbidden, create_case, start_mechanism, verify_audit
from engine.casework.documents import case_documents
from models import Message
from tests.conftest import SHANGHAI
from tests.engine.test_filing_supervision import join
from tests.helpers import act, event_types, open_task
from tests.workflows.test_procuratorial_opinion_diagram import DRAFT, REPLY

# Two months from Tuesday 3 March end on 3 May, inside the Labour Day holiday: the next working day.
TWO_MONTHS = datetime(2026, 5, 6, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def case(session, users):
    case = create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")
    join(session, case, "procuratorate")  # with the police's request to prosecute
    return case


def draft(session, users, case):
    instance = start_mechanism(session, users["procuratorate_handler"], case.id, "procuratorial_opinion")
    assert open_task(session, case.id, "record_non_prosecution").lane == "procuratorate.handler"
    act(session, users["procuratorate_handler"], case.id, "record_non_prosecution", DRAFT)
    assert open_task(session, case.id, "approve_procuratorial_opinion").lane == "procuratorate.head"
    return instance


def test_the_opinion_reaches_samr_and_its_reply_comes_back(session, users, case, clock):
    instance = draft(session, users, case)
    act(session, users["procuratorate_head"], case.id, "approve_procuratorial_opinion", {"opinion_approved": True})
    [opinion] = case_documents(session, users["procuratorate_handler"], case.id)
    assert (opinion.kind, opinion.number, opinion.recipient_agency.code) == (
        "procuratorial_opinion", "东检检意〔2026〕1号", "samr")
    assert opinion.content["steps"] == {"record_non_prosecution": DRAFT}, "the chief's remarks stay inside"
    send = open_task(session, case.id, "send_procuratorial_opinion")
    assert (send.lane, send.handoff) == ("procuratorate.liaison", "outgoing")
    act(session, users["procuratorate_liaison"], case.id, "send_procuratorial_opinion", {"released": True})

    clock.advance(days=1)
    accept = open_task(session, case.id, "accept_procuratorial_opinion")
    assert (accept.lane, accept.handoff) == ("samr.liaison", "incoming")
    act(session, users["samr_liaison"], case.id, "accept_procuratorial_opinion", {"received": True})
    decide = open_task(session, case.id, "decide_administrative_handling")
    assert (decide.lane, decide.deadline_rule, decide.due_at) == ("samr.handler", "2m", TWO_MONTHS)
    assert [d.number for d in case_documents(session, users["samr_handler"], case.id)] == ["东检检意〔2026〕1号"]
    act(session, users["samr_handler"], case.id, "decide_administrative_handling", REPLY)
    act(session, users["samr_liaison"], case.id, "send_opinion_reply", {"released": True})
    receive = open_task(session, case.id, "receive_opinion_reply")
    assert (receive.lane, receive.handoff) == ("procuratorate.liaison", "incoming")
    act(session, users["procuratorate_liaison"], case.id, "receive_opinion_reply", {"received": True})
    act(session, users["procuratorate_handler"], case.id, "record_opinion_reply", {"acknowledged": True})

    session.refresh(instance)
    assert instance.status == "completed"
    assert session.scalars(select(Message).where(Message.source_instance_id == instance.id)).all() == []
    events = event_types(session, case.id)
    assert events.count("handoff_approved") == 4
    assert events.count("document_generated") == 1
    assert verify_audit(session, case.id) == []


def test_the_chief_may_decline_and_nothing_is_sent(session, users, case):
    instance = draft(session, users, case)
    act(session, users["procuratorate_head"], case.id, "approve_procuratorial_opinion",
        {"opinion_approved": False, "comment": "不需要行政处罚。"})
    session.refresh(instance)
    assert instance.status == "completed"
    assert case_documents(session, users["procuratorate_handler"], case.id) == []
    assert "handoff_approved" not in event_types(session, case.id)


def test_only_prosecutors_start_it(session, users, case):
    for username in ("samr_handler", "procuratorate_head"):
        with pytest.raises(Forbidden):
            start_mechanism(session, users[username], case.id, "procuratorial_opinion")
