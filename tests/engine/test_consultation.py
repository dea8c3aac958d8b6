"""案情会商 driven through the engine on the real diagram with the demo users: every path."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import (
    Forbidden,
    NotFound,
    claim_task,
    complete_task,
    create_case,
    deliver_pending,
    inbox,
    start_mechanism,
    verify_audit,
)
from engine.casework.cases import startable_mechanisms
from engine.casework.documents import case_documents
from engine.worker.timers import fire_due_timers
from models import Message, ProcessInstance, Timer
from tests.conftest import SHANGHAI
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    act,
    event_types,
    open_task,
    open_tasks,
)

PROPOSAL = {
    "topic": "某公司技术秘密被侵犯案定性问题",
    "questions": "1. 涉案信息是否构成商业秘密？2. 损失数额如何认定？",
    "materials": "调查报告摘要。",
    "invited_agencies": ["police", "procuratorate", "samr"],
    "reply_deadline": "5wd",
}
APPROVE = {"handoff_approved": True}
RETURN = {"handoff_approved": False, "comment": "请补充问题。"}
MINUTES = {"held_on": "2026-03-10", "participants": "市场监管、公安、检察", "minutes": "会议讨论了定性问题。",
           "conclusion": "涉嫌犯罪，应当移送。", "action_plan": "启动｜立案协助｜会商认为应就新查明的事实另行移送",
           "request_transfer": False}
# Start of the test clock: Monday 2 March 2026, 09:00 in Shanghai.
FIVE_WD = datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
THREE_WD = datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")


def consultation(session, case_id):
    return session.scalars(
        select(ProcessInstance).where(ProcessInstance.case_id == case_id).order_by(ProcessInstance.id)
        .execution_options(populate_existing=True)
    ).all()[-1]


def answers(session, case_id) -> dict:
    return {t.agency.code: t for t in open_tasks(session, case_id) if t.bpmn_id == "answer_consultation"}


def answer(session, users, case, code: str, data: dict) -> None:
    """The invited agency `code` answers (several answer tasks are open at once)."""
    task = answers(session, case.id)[code]
    claim_task(session, users[f"{code}_liaison"], task.id)
    complete_task(session, users[f"{code}_liaison"], task.id, data)


def timer_rows(session, instance_id) -> dict:
    return {t.bpmn_id: t for t in session.scalars(
        select(Timer).where(Timer.instance_id == instance_id).execution_options(populate_existing=True))}


def invite(session, users, case, proposal=PROPOSAL, convener="samr"):
    instance = start_mechanism(session, users[f"{convener}_handler"], case.id, "consultation")
    propose = open_task(session, case.id, "propose_consultation")
    assert (propose.lane, propose.due_at) == (f"{convener}.handler", None)
    act(session, users[f"{convener}_handler"], case.id, "propose_consultation", proposal)
    approve = open_task(session, case.id, "approve_consultation")
    assert (approve.lane, approve.handoff, approve.deadline_rule) == (f"{convener}.liaison", "outgoing", "24h")
    act(session, users[f"{convener}_liaison"], case.id, "approve_consultation", APPROVE)
    return instance


@pytest.mark.parametrize("order", [("police", "procuratorate"), ("procuratorate", "police")])
def test_consultation_with_answers_in_any_order_starts_a_transfer(session, users, case, clock, order):
    instance = invite(session, users, case)
    [letter] = list(case_documents(session, users["samr_handler"], case.id))
    assert letter.kind == "consultation_letter" and letter.number == "东市监会商〔2026〕1号"
    assert set(letter.content["steps"]) == {"propose_consultation"}
    assert letter.content["steps"]["propose_consultation"]["questions"] == PROPOSAL["questions"]

    # The convener's own agency was taken off the list; each invited liaison answers by 5wd.
    asked = answers(session, case.id)
    assert {code: (t.lane, t.handoff, t.deadline_rule, t.due_at) for code, t in asked.items()} == {
        "police": ("police.liaison", "outgoing", "5wd", FIVE_WD),
        "procuratorate": ("procuratorate.liaison", "outgoing", "5wd", FIVE_WD)}
    overdue = timer_rows(session, instance.id)["answers_overdue"]
    assert (overdue.rule, overdue.due_at, overdue.status) == ("5wd", FIVE_WD, "pending")
    assert [t.bpmn_id for t in inbox(session, users["police_liaison"]).items] == ["answer_consultation"]
    session.refresh(case)
    assert {p.agency.code for p in case.participants} == {"samr", "police", "procuratorate"}

    for code in order:
        clock.advance(hours=3)
        answer(session, users, case, code, {"opinion": f"{code} 的书面意见", "legal_basis": "反不正当竞争法第九条"})
    replies = [d for d in case_documents(session, users["samr_handler"], case.id) if d.kind == "consultation_reply"]
    assert {d.issuing_agency.code: d.content["steps"]["answer_consultation"]["opinion"] for d in replies} == {
        "police": "police 的书面意见", "procuratorate": "procuratorate 的书面意见"}
    assert timer_rows(session, instance.id)["answers_overdue"].status == "cancelled"

    minutes = open_task(session, case.id, "record_minutes")
    assert minutes.lane == "samr.handler"
    act(session, users["samr_handler"], case.id, "record_minutes", MINUTES)
    session.refresh(instance)
    assert instance.status == "completed"
    [request] = session.scalars(select(Message).where(Message.name == "transfer_requested"))
    assert (request.case_id, request.payload, request.status) == (
        case.id, {"case_id": case.id, "requested_by": "consultation"}, "pending")
    events = event_types(session, case.id)
    # 立案协助 already runs on this case: the item gave the reason for a second one.
    assert events.count("action_item_opened") == events.count("action_item_done") == 1
    assert events.count("handoff_approved") == 3  # the invitation and both answers
    assert events.count("document_generated") == 4
    assert verify_audit(session, case.id) == []

    # 立案协助 starts on the case when it names the message in its `started_by`.
    assert deliver_pending(session) == 1
    started = consultation(session, case.id)
    assert started.process_model.key == "case_transfer" and started.id != instance.id
    assert len([t for t in open_tasks(session, case.id) if t.bpmn_id == "register_facts"]) == 2


def test_default_deadline_and_a_late_answer_is_chased(session, users, case, clock):
    instance = invite(session, users, case, {**PROPOSAL, "reply_deadline": "3wd"})
    assert {t.due_at for t in answers(session, case.id).values()} == {THREE_WD}
    answer(session, users, case, "police", {"opinion": "意见"})
    clock.set(THREE_WD - timedelta(seconds=1))
    assert fire_due_timers(session) == 0, "not before the end of the third working day"
    clock.advance(seconds=1)
    assert fire_due_timers(session) == 1
    chase = open_task(session, case.id, "chase_answers")
    assert chase.lane == "samr.liaison"
    assert list(answers(session, case.id)) == ["procuratorate"], "the late answer stays open"
    act(session, users["samr_liaison"], case.id, "chase_answers", {"note": "已电话催告检察院。"})
    act(session, users["procuratorate_liaison"], case.id, "answer_consultation", {"opinion": "迟到的意见"})
    act(session, users["samr_handler"], case.id, "record_minutes", {**MINUTES, "action_plan": ""})
    session.refresh(instance)
    assert instance.status == "completed"
    assert session.scalars(select(Message).where(Message.name == "transfer_requested")).all() == []
    assert "timer_fired" in event_types(session, case.id)


def test_police_convene_and_their_liaison_approves(session, users, case):
    # The police take part once the transfer reached them; then their handlers may convene.
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    assert "consultation" in [m.key for m in startable_mechanisms(session, users["police_handler"], case)]
    assert "rights_protection" not in [m.key for m in startable_mechanisms(session, users["police_handler"], case)]
    invite(session, users, case, {**PROPOSAL, "invited_agencies": ["samr", "police"]}, convener="police")
    [(code, task)] = answers(session, case.id).items()
    assert (code, task.lane) == ("samr", "samr.liaison")
    act(session, users["samr_liaison"], case.id, "answer_consultation", {"opinion": "市场监管意见"})
    assert open_task(session, case.id, "record_minutes").lane == "police.handler"
    [reply] = [d for d in case_documents(session, users["police_handler"], case.id) if d.kind == "consultation_reply"]
    assert reply.number.startswith("东市监会复〔2026〕")


def test_liaison_returns_the_proposal_at_most_three_times(session, users, case):
    instance = start_mechanism(session, users["samr_handler"], case.id, "consultation")
    for _ in range(3):
        act(session, users["samr_handler"], case.id, "propose_consultation", PROPOSAL)
        act(session, users["samr_liaison"], case.id, "approve_consultation", RETURN)
    session.refresh(instance)
    assert instance.status == "completed"
    assert [t for t in open_tasks(session, case.id) if t.instance_id == instance.id] == []
    assert event_types(session, case.id).count("handoff_rejected") == 3
    assert case_documents(session, users["samr_handler"], case.id) == []


def test_returned_then_approved(session, users, case):
    start_mechanism(session, users["samr_handler"], case.id, "consultation")
    act(session, users["samr_handler"], case.id, "propose_consultation", PROPOSAL)
    act(session, users["samr_liaison"], case.id, "approve_consultation", RETURN)
    act(session, users["samr_handler"], case.id, "propose_consultation", {**PROPOSAL, "invited_agencies": ["court"]})
    act(session, users["samr_liaison"], case.id, "approve_consultation", APPROVE)
    assert list(answers(session, case.id)) == ["court"]


def test_inviting_only_ones_own_agency_goes_back_to_the_handler(session, users, case):
    start_mechanism(session, users["samr_handler"], case.id, "consultation")
    act(session, users["samr_handler"], case.id, "propose_consultation", {**PROPOSAL, "invited_agencies": ["samr"]})
    act(session, users["samr_liaison"], case.id, "approve_consultation", APPROVE)
    assert open_task(session, case.id, "propose_consultation").lane == "samr.handler"
    assert case_documents(session, users["samr_handler"], case.id) == [], "no letter without invitees"


def test_who_may_start_a_consultation(session, users, case):
    with pytest.raises(Forbidden):
        start_mechanism(session, users["samr_liaison"], case.id, "consultation")
    with pytest.raises(NotFound):  # the court does not take part in the case yet
        start_mechanism(session, users["court_handler"], case.id, "consultation")
    keys = [m.key for m in startable_mechanisms(session, users["samr_handler"], case)]
    assert {"consultation", "rights_protection"} <= set(keys)
    assert "consultation" not in [m.key for m in startable_mechanisms(session, users["samr_head"], case)]
