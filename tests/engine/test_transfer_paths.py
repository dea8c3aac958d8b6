"""立案协助 on the real diagram through the engine: receipt, wrong organ, supplements, the bounded
return loop and the extension of the police review period.

Each role acts in its lane; time moves only on the FixedClock (Monday 2 March 2026, 09:00).
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import InvalidInput, claim_task, complete_task, task_context, verify_audit
from engine.mechanisms.transfer import Recommendation, ReviewState, TransferLine
from engine.worker.timers import fire_due_timers
from models import AuditEvent, Document, Message, Timer, case_chain
from tests.conftest import SHANGHAI
from tests.helpers import (
    FILE,
    RECEIPT,
    RECEIVED,
    RELEASE,
    REVIEW_FILE,
    act,
    instance_of,
    open_task,
    open_tasks,
    transferred,
)

INCOMPLETE = {**RECEIPT, "receipt_outcome": "incomplete", "missing_materials": "鉴定意见及鉴定机构资质证明"}
WRONG_ORGAN = {**RECEIPT, "receipt_outcome": "wrong_organ", "forwarded_to": "市公安局经济犯罪侦查支队"}
SUPPLY = {"supplied_materials": "司法鉴定意见书1份、鉴定机构资质证书复印件1份"}


def end_of(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def documents(session, case_id: int) -> list[tuple[str, str]]:
    return [(d.kind, d.number) for d in session.scalars(
        select(Document).where(Document.case_id == case_id).order_by(Document.id))]


def audit_details(session, case_id: int, event_type: str) -> list[dict]:
    return list(session.scalars(select(AuditEvent.detail).where(
        AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == event_type).order_by(AuditEvent.seq)))


def test_the_transfer_letter_goes_with_the_liaisons_approval(session, users):
    case = transferred(session, users)
    [(kind, number)] = documents(session, case.id)
    assert kind == "transfer_letter" and "移〔2026〕1号" in number
    letter = session.scalars(select(Document).where(Document.case_id == case.id)).one()
    assert letter.content["copy_to"] == ["区人民检察院"] or letter.content["copy_to"][0].endswith("人民检察院")
    assert [d["kind"] for d in audit_details(session, case.id, "document_generated")] == ["transfer_letter"]


def test_police_liaison_signs_the_receipt_and_review_starts(session, users):
    case = transferred(session, users)
    receipt = open_task(session, case.id, "accept_receipt")
    assert (receipt.lane, receipt.handoff, receipt.deadline_rule) == ("police.liaison", "incoming", "24h")
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    assert [k for k, _n in documents(session, case.id)] == ["transfer_letter", "receipt"]
    # The police's 3 days from acceptance sit on the head's decision, open beside the review.
    decide = open_task(session, case.id, "decide_filing")
    assert (decide.lane, decide.deadline_rule, decide.deadline_rule_id, decide.due_at) == (
        "police.head", "3d", "police_filing_decision", end_of(5))
    assert decide.deadline_trigger_at == datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    review = open_task(session, case.id, "review_case")
    assert (review.lane, review.deadline_rule, review.due_at) == ("police.handler", None, None)
    extend = open_task(session, case.id, "extend_review")
    assert (extend.lane, extend.due_at) == ("police.head", None)


def test_wrong_organ_is_forwarded_and_samr_told(session, users):
    case = transferred(session, users)
    act(session, users["police_liaison"], case.id, "accept_receipt", WRONG_ORGAN)
    told = open_task(session, case.id, "accept_forwarding_notice")
    assert (told.lane, told.handoff) == ("samr.liaison", "incoming")
    # The written notice to SAMR is the receipt, naming the organ the case went to.
    receipt = session.scalars(select(Document).where(Document.case_id == case.id, Document.kind == "receipt")).one()
    assert receipt.content["steps"] == {"accept_receipt": WRONG_ORGAN}
    assert receipt.content["recipient"].endswith("市场监督管理局")
    act(session, users["samr_liaison"], case.id, "accept_forwarding_notice", RECEIVED)
    assert instance_of(session, case.id).status == "completed"
    completed = [d for d in audit_details(session, case.id, "task_completed") if d["bpmn_id"] == "accept_receipt"]
    assert completed[0]["variables"]["forwarded_to"] == "市公安局经济犯罪侦查支队"
    # No message leaves the collaboration: the SAMR pool catches the notice itself.
    assert session.scalars(select(Message).where(Message.case_id == case.id)).all() == []


def supplement_round(session, users, case_id):
    act(session, users["police_liaison"], case_id, "accept_receipt", INCOMPLETE)
    request = open_task(session, case_id, "accept_supplement_request")
    assert (request.lane, request.handoff) == ("samr.liaison", "incoming")
    act(session, users["samr_liaison"], case_id, "accept_supplement_request", RECEIVED)
    supply = open_task(session, case_id, "supply_supplement")
    assert (supply.lane, supply.deadline_rule) == ("samr.handler", "3d")
    act(session, users["samr_handler"], case_id, "supply_supplement", SUPPLY)
    act(session, users["samr_liaison"], case_id, "approve_supplement_handoff", RELEASE)


def test_supplements_loop_then_the_police_accept(session, users):
    case = transferred(session, users)
    for _ in range(3):
        supplement_round(session, users, case.id)
        assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["accept_receipt"]
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    kinds = [k for k, _n in documents(session, case.id)]
    assert kinds == ["transfer_letter"] + ["supplement_request"] * 3 + ["receipt"]
    numbers = [n for k, n in documents(session, case.id) if k == "supplement_request"]
    assert [n.split("〔2026〕")[1] for n in numbers] == ["1号", "2号", "3号"]
    assert open_task(session, case.id, "review_case").lane == "police.handler"
    assert verify_audit(session, case.id) == []


def test_the_supplement_loop_is_bounded_and_incompleteness_never_refuses_the_case(session, users):
    case = transferred(session, users)
    for _ in range(5):
        supplement_round(session, users, case.id)
    # A sixth "incomplete": no more requests, the police must accept the case and review it.
    act(session, users["police_liaison"], case.id, "accept_receipt", INCOMPLETE)
    assert sorted(t.bpmn_id for t in open_tasks(session, case.id)) == ["decide_filing", "extend_review", "review_case"]
    kinds = [k for k, _n in documents(session, case.id)]
    assert kinds.count("supplement_request") == 5 and kinds[-1] == "receipt"


def accepted(session, users):
    case = transferred(session, users)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    return case


def decision_timer(session, case_id) -> Timer:
    return session.scalars(select(Timer).where(Timer.case_id == case_id, Timer.bpmn_id == "decide_filing_overdue")
                           .execution_options(populate_existing=True)).one()


def test_the_head_extends_the_review_to_10_then_30_days(session, users, clock):
    case = accepted(session, users)
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))
    act(session, users["police_head"], case.id, "extend_review",
        {"review_period": "10d", "extension_reasons": "需调取银行流水"})
    decide = open_task(session, case.id, "decide_filing")
    # Counted from acceptance (Monday 2 March), not from the extension.
    assert (decide.deadline_rule, decide.due_at) == ("10d", end_of(12))
    assert (decision_timer(session, case.id).due_at, decision_timer(session, case.id).rule) == (end_of(12), "10d")
    clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0, "the old deadline no longer escalates"

    act(session, users["police_head"], case.id, "extend_review",
        {"review_period": "30d", "extension_reasons": "案情重大复杂，涉及多地"})
    decide = open_task(session, case.id, "decide_filing")
    assert (decide.deadline_rule, decide.due_at) == ("30d", end_of(1, 4))
    assert decision_timer(session, case.id).due_at == end_of(1, 4)
    assert "extend_review" not in [t.bpmn_id for t in open_tasks(session, case.id)], "30 days: no more"

    extended = audit_details(session, case.id, "deadline_extended")
    assert [(e["bpmn_id"], e["rule"], e["reason"]) for e in extended] == [
        ("decide_filing", "10d", "需调取银行流水"), ("decide_filing", "30d", "案情重大复杂，涉及多地")]
    assert {(e["rule_id"], e["counted_from"]) for e in extended} == {
        ("police_filing_decision", "2026-03-02T01:00:00+00:00")}
    moved = [(datetime.fromisoformat(e["before"]), datetime.fromisoformat(e["after"])) for e in extended]
    assert moved == [(end_of(5), end_of(12)), (end_of(12), end_of(1, 4))]
    assert extended[1]["timers"] == ["decide_filing_overdue"]
    clock.set(datetime(2026, 4, 2, 0, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1, "the extended deadline still escalates"
    assert open_task(session, case.id, "decide_filing").state == "open"
    assert verify_audit(session, case.id) == []


def test_an_extension_cannot_shorten_the_period_or_follow_the_decision(session, users):
    case = accepted(session, users)
    act(session, users["police_head"], case.id, "extend_review",
        {"review_period": "10d", "extension_reasons": "需补充调查"})
    task = open_task(session, case.id, "extend_review")
    claim_task(session, users["police_head"], task.id)
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["police_head"], task.id,
                      {"review_period": "10d", "extension_reasons": "再次延长"})
    assert "review_period" in err.value.errors
    assert open_task(session, case.id, "decide_filing").due_at == end_of(12), "nothing moved"

    # The review is done, the head still deciding: the period may still be extended.
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["police_head"], task.id,
                      {"review_period": "30d", "extension_reasons": "决定已作出"})
    assert "filing decision has been made" in err.value.errors["review_period"][0]


def test_the_head_decides_on_the_handlers_review(session, users):
    case = accepted(session, users)
    decide = open_task(session, case.id, "decide_filing")
    claim_task(session, users["police_head"], decide.id)
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["police_head"], decide.id, FILE)
    assert "has not submitted the review" in err.value.errors["filing_decision"][0]
    assert open_task(session, case.id, "decide_filing").state == "open"
    assert task_context(session, users["police_head"], decide) == [(TransferLine.REVIEW_OPINION, ReviewState.PENDING)]
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    # The head's page shows what the handler recommended.
    assert task_context(session, users["police_head"], decide) == [
        (TransferLine.REVIEW_RECOMMENDATION, Recommendation.FILE), (TransferLine.REVIEW_OPINION, REVIEW_FILE["opinion"])]
    complete_task(session, users["police_head"], decide.id, FILE)
    # The optional extension ends when the decision is sent (the pool's terminate end event).
    assert sorted(t.bpmn_id for t in open_tasks(session, case.id)) == ["approve_filing_notice_handoff", "extend_review"]


def test_extending_needs_a_reason(session, users):
    case = accepted(session, users)
    task = open_task(session, case.id, "extend_review")
    claim_task(session, users["police_head"], task.id)
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["police_head"], task.id, {"review_period": "30d", "extension_reasons": ""})
    assert "extension_reasons" in err.value.errors
