"""The standing duties after a penalty decision (DOMAIN §4) through the engine on the real diagrams:
a trade-secret penalty decision creates the copy duty (10d) by itself, every decision the
publication duty (20wd), and a quash recorded later reaches the case's disclosure instance as a
message between instances and creates the withdrawal duty (3wd)."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

import engine
from engine.casework.documents import case_documents
from engine.worker.passes import drain
from models import Message, Timer
from tests.conftest import SHANGHAI
from tests.helpers import act, event_types, open_task, open_tasks

DECISION = {"decision_number": "东市监罚〔2026〕7号", "decided_on": "2026-03-02", "party_name": "某科技有限公司",
            "violation": "以不正当手段获取权利人技术秘密", "penalty": "罚款人民币五十万元", "fine_amount": 500000}
PUBLICATION = {"published_on": "2026-03-09", "channel": "国家企业信用信息公示系统",
               "published_text": "某科技有限公司侵犯商业秘密，罚款五十万元。", "secret_redacted": True}
QUASH = {"decision_number": "东市监罚〔2026〕7号", "quashed_on": "2026-05-06", "quashed_by": "聊城市人民政府",
         "reason": "认定事实不清"}


@pytest.fixture
def case(session, users):
    return engine.create_case(session, users["samr_handler"], "某公司侵犯商业秘密行政处罚案")


def record(session, users, case, trade_secret=True):
    engine.start_mechanism(session, users["samr_handler"], case.id, "penalty_disclosure")
    act(session, users["samr_handler"], case.id, "record_penalty_decision",
        {**DECISION, "trade_secret_matter": trade_secret})


def publish(session, users, case, clock):
    """The handler publishes on Monday 9 March, the day the publication form names."""
    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    act(session, users["samr_handler"], case.id, "publish_penalty_information", PUBLICATION)


def duties(session, case):
    return {t.bpmn_id: t for t in open_tasks(session, case.id) if t.bpmn_id != "register_facts"}


def disclosure(session, case):
    return next(i for i in engine.case_instances(session, case) if i.process_model.key == "penalty_disclosure")


def test_a_trade_secret_penalty_is_copied_to_police_and_procuratorate(session, users, case):
    record(session, users, case)
    open_duties = duties(session, case)
    # Nobody starts the copy duty: recording the decision is enough.
    assert set(open_duties) == {"copy_penalty_decision", "publish_penalty_information"}
    copy, publish = open_duties["copy_penalty_decision"], open_duties["publish_penalty_information"]
    assert (copy.lane, copy.deadline_rule, copy.handoff) == ("samr.liaison", "10d", "outgoing")
    assert copy.due_at == datetime(2026, 3, 12, 23, 59, 59, tzinfo=SHANGHAI)
    assert (publish.lane, publish.deadline_rule) == ("samr.handler", "20wd")
    assert publish.due_at == datetime(2026, 3, 30, 23, 59, 59, tzinfo=SHANGHAI)

    act(session, users["samr_liaison"], case.id, "copy_penalty_decision", {"copied": True})
    [copy_doc] = [d for d in case_documents(session, users["samr_handler"], case.id)
                  if d.kind == "penalty_decision_copy"]
    assert (copy_doc.recipient_agency.code, copy_doc.content["copy_to"]) == ("police", ["聊城市东昌府区人民检察院"])
    assert copy_doc.content["steps"]["record_penalty_decision"]["decision_number"] == DECISION["decision_number"]
    receipts = {t.agency.code: t for t in open_tasks(session, case.id) if t.bpmn_id.startswith("receive_penalty_copy")}
    assert {code: (t.role, t.handoff) for code, t in receipts.items()} == {
        "police": ("liaison", "incoming"), "procuratorate": ("liaison", "incoming")}
    session.refresh(case)
    assert {"police", "procuratorate"} <= {p.agency.code for p in case.participants}
    # Police and procuratorate may read the copied decision.
    assert copy_doc in case_documents(session, users["procuratorate_liaison"], case.id)
    act(session, users["police_liaison"], case.id, "receive_penalty_copy_police", {"received": True})
    act(session, users["procuratorate_liaison"], case.id, "receive_penalty_copy_procuratorate", {"received": True})
    assert event_types(session, case.id).count("handoff_approved") == 3


def test_other_penalties_are_only_published(session, users, case, clock):
    record(session, users, case, trade_secret=False)
    assert set(duties(session, case)) == {"publish_penalty_information"}
    publish(session, users, case, clock)
    session.refresh(case)
    assert {p.agency.code for p in case.participants} == {"samr"}


def test_a_quashed_decision_is_withdrawn_within_three_working_days(session, users, case, clock):
    record(session, users, case, trade_secret=False)
    publish(session, users, case, clock)
    [period] = session.scalars(select(Timer).where(Timer.bpmn_id == "publication_period_over")).all()
    assert (period.status, period.rule) == ("pending", "36m")

    clock.set(datetime(2026, 5, 6, 10, 0, tzinfo=SHANGHAI))  # a Wednesday
    engine.start_mechanism(session, users["samr_handler"], case.id, "penalty_quash")
    act(session, users["samr_handler"], case.id, "record_penalty_quash", QUASH)
    [message] = session.scalars(select(Message).where(Message.name == "penalty_decision_quashed")).all()
    # The date of the quash goes along: the withdrawal runs from it.
    assert (message.status, message.payload) == ("pending", {
        "case_id": case.id, "legal_events": {"penalty_quashed": "2026-05-06T00:00:00+08:00"}})
    drain(session)
    session.refresh(message)
    assert (message.status, message.target_instance_id) == ("delivered", disclosure(session, case).id)
    withdraw = open_task(session, case.id, "withdraw_penalty_information")
    assert (withdraw.lane, withdraw.deadline_rule) == ("samr.handler", "3wd")
    # Thursday, Friday, then Saturday 9 May: a working day swapped for the Labour Day holiday.
    assert withdraw.due_at == datetime(2026, 5, 9, 23, 59, 59, tzinfo=SHANGHAI)
    session.refresh(period)
    assert period.status == "cancelled"
    act(session, users["samr_handler"], case.id, "withdraw_penalty_information",
        {"withdrawn_on": "2026-05-07", "withdrawn": True})
    assert disclosure(session, case).status == "completed"
    events = event_types(session, case.id)
    assert events.index("message_sent") < events.index("message_delivered")


def test_the_publication_period_ends_the_wait(session, users, case, clock):
    record(session, users, case, trade_secret=False)
    publish(session, users, case, clock)
    # Three years from the publication on Monday 9 March 2026: Friday 9 March 2029, to its end.
    [period] = session.scalars(select(Timer).where(Timer.bpmn_id == "publication_period_over")).all()
    assert period.due_at == datetime(2029, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
    clock.set(datetime(2029, 3, 10, 0, 0, tzinfo=SHANGHAI))
    assert drain(session).timers == 1
    assert disclosure(session, case).status == "completed"
    assert "timer_fired" in event_types(session, case.id)
