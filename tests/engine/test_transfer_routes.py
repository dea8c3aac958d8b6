"""立案协助's routes after a 不予立案, on the real diagrams through the engine: SAMR's written
objections (提请复议书, and the 立案监督建议书 after the reconsideration or directly, Decree 310
art. 9 "也可以"), and the case files the police return with a 不予立案 (art. 8); and no
penalty in place of a transfer the threshold calls for (以罚代刑, art. 11).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import (
    InvalidInput,
    case_documents,
    claim_task,
    complete_task,
    create_case,
    deliver_pending,
    start_mechanism,
    verify_audit,
)
from models import Document, Message, ProcessInstance
from tests.helpers import (
    ACK,
    APPROVE_TRANSFER,
    FACTS_500K,
    NOT_FILE,
    RECEIPT,
    RECEIVED,
    RELEASE,
    RETURNED,
    act,
    event_types,
    notify_filing,
    open_task,
    open_tasks,
    police_decide,
    transferred,
)

DIRECT = {**ACK, "request_supervision": True, "samr_request_reasons": "鉴定意见证明损失已达50万元，不予立案理由不成立"}
RECONSIDER = {**ACK, "request_reconsideration": True, "reconsideration_grounds": "鉴定意见证明损失已达50万元"}


def not_filed(session, users):
    case = transferred(session, users, "某公司技术秘密案")
    police_decide(session, users, case.id, NOT_FILE)
    return case


def documents(session, case_id, kind):
    return list(session.scalars(select(Document).where(Document.case_id == case_id, Document.kind == kind)))


def test_samr_asks_the_procuratorate_directly_with_a_proposal(session, users):
    case = not_filed(session, users)
    act(session, users["samr_handler"], case.id, "acknowledge_decision", DIRECT)
    [proposal] = documents(session, case.id, "filing_supervision_proposal")
    assert proposal.content["title"] == "立案监督建议书" and proposal.content["recipient"].endswith("人民检察院")
    assert proposal.content["steps"]["acknowledge_decision"]["samr_request_reasons"] == DIRECT["samr_request_reasons"]
    assert not documents(session, case.id, "reconsideration_request")
    handoff = open_task(session, case.id, "approve_supervision_handoff")
    assert (handoff.lane, handoff.handoff) == ("samr.liaison", "outgoing")
    assert not [t for t in open_tasks(session, case.id) if t.bpmn_id == "approve_reconsideration_handoff"]
    act(session, users["samr_liaison"], case.id, "approve_supervision_handoff", RELEASE)
    [sent] = session.scalars(select(Message).where(
        Message.case_id == case.id, Message.name == "filing_supervision_requested"))
    # The police's reasons are those of the non-filing notice: there was no reconsideration.
    assert sent.payload == {"supervision_trigger": "samr_request", "non_filing_reasons": NOT_FILE["filing_reasons"],
                            "samr_request_reasons": DIRECT["samr_request_reasons"]}
    deliver_pending(session)
    examine = open_task(session, case.id, "examine_supervision")
    assert examine.lane == "procuratorate.handler"
    assert session.get(ProcessInstance, examine.instance_id).process_model.key == "filing_supervision"
    # The procuratorate, now working on the case, reads the proposal.
    assert proposal.id in {d.id for d in case_documents(session, users["procuratorate_handler"], case.id)}
    assert verify_audit(session, case.id) == []


def test_a_reconsideration_request_is_a_document(session, users):
    case = not_filed(session, users)
    act(session, users["samr_handler"], case.id, "acknowledge_decision", RECONSIDER)
    [request] = documents(session, case.id, "reconsideration_request")
    assert (request.content["title"], request.content["recipient"]) == ("提请复议书", "聊城市公安局东昌府分局")
    assert request.content["steps"]["acknowledge_decision"]["reconsideration_grounds"] == RECONSIDER["reconsideration_grounds"]
    assert not documents(session, case.id, "filing_supervision_proposal")
    act(session, users["samr_liaison"], case.id, "approve_reconsideration_handoff", RELEASE)
    act(session, users["police_liaison"], case.id, "accept_reconsideration_request", RECEIVED)
    act(session, users["police_head"], case.id, "decide_reconsideration",
        {"reconsideration_outcome": "upheld", "reconsideration_reasons": "鉴定意见不能证明实际损失"})
    act(session, users["police_liaison"], case.id, "approve_reconsideration_decision_handoff", RELEASE)
    act(session, users["samr_liaison"], case.id, "accept_reconsideration_decision", RECEIVED)
    act(session, users["samr_handler"], case.id, "consider_supervision",
        {"request_supervision": True, "samr_request_reasons": "复议理由不能成立"})
    [proposal] = documents(session, case.id, "filing_supervision_proposal")
    assert proposal.content["steps"]["consider_supervision"]["samr_request_reasons"] == "复议理由不能成立"
    act(session, users["samr_liaison"], case.id, "approve_supervision_handoff", RELEASE)
    [sent] = session.scalars(select(Message).where(
        Message.case_id == case.id, Message.name == "filing_supervision_requested"))
    assert sent.payload["non_filing_reasons"] == "鉴定意见不能证明实际损失"


def test_not_filed_the_police_return_the_files_with_a_list(session, users):
    case = transferred(session, users, "某公司技术秘密案")
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], case.id, "review_case", {"recommendation": "not_file", "opinion": "无犯罪事实"})
    act(session, users["police_head"], case.id, "decide_filing", NOT_FILE)
    notify_filing(session, users, case.id)
    # Decree 310 art. 8: the files go back with the notice, within the rule's 3 days of the decision.
    task = open_task(session, case.id, "return_materials")
    assert (task.lane, task.deadline_rule_id, task.deadline_rule) == ("police.handler", "materials_return", "3d")
    act(session, users["police_handler"], case.id, "return_materials", RETURNED)
    act(session, users["police_liaison"], case.id, "approve_return_handoff", RELEASE)
    # The police's review has ended: the head's optional extension went with it.
    assert not [t for t in open_tasks(session, case.id) if t.bpmn_id == "extend_review"]
    act(session, users["samr_liaison"], case.id, "accept_returned_materials", RECEIVED)
    check = open_task(session, case.id, "check_returned_materials")
    assert (check.lane, check.deadline_rule_id) == ("samr.handler", "returned_materials_check")
    act(session, users["samr_handler"], case.id, "check_returned_materials",
        {"return_discrepancies_found": True, "return_discrepancies": "U盘实收1个"})
    [receipt] = documents(session, case.id, "returned_materials_receipt")
    assert receipt.content["steps"] == {
        "return_materials": RETURNED,
        "check_returned_materials": {"return_discrepancies_found": True, "return_discrepancies": "U盘实收1个"}}
    assert receipt.content["recipient"] == "聊城市公安局东昌府分局"
    # SAMR goes on with the notice as before.
    assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["acknowledge_decision"]
    assert verify_audit(session, case.id) == []


# --------------------------------------------------------------------------- 以罚代刑

DECISION = {"decision_number": "东市监罚〔2026〕7号", "decided_on": "2026-03-02", "party_name": "某科技有限公司",
            "violation": "以不正当手段获取权利人技术秘密", "penalty": "罚款人民币五十万元", "fine_amount": 500000,
            "trade_secret_matter": True}


def penalty_task(session, users, case):
    start_mechanism(session, users["samr_handler"], case.id, "penalty_disclosure")
    task = open_task(session, case.id, "record_penalty_decision")
    claim_task(session, users["samr_handler"], task.id)
    return task


def test_no_penalty_instead_of_a_transfer_the_threshold_calls_for(session, users):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)  # 500,000 yuan: criminal
    act(session, users["samr_head"], case.id, "decide_transfer",
        {**APPROVE_TRANSFER, "transfer_approved": False, "reasons": "拟先行处罚"})
    task = penalty_task(session, users, case)
    events_before = event_types(session, case.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler"], task.id, DECISION)
    assert "以罚代刑" in refused.value.errors[""][0]
    # Nothing was written: the task is still open and the case's trail unchanged.
    assert open_task(session, case.id, "record_penalty_decision").id == task.id
    assert event_types(session, case.id) == events_before


def test_a_penalty_after_the_police_answered_stands_and_its_fine_is_credited(session, users):
    case = transferred(session, users, "某公司配方被盗案")
    police_decide(session, users, case.id, NOT_FILE)
    task = penalty_task(session, users, case)
    complete_task(session, users["samr_handler"], task.id, DECISION)
    session.refresh(task)
    assert task.result["fine_to_credit"] == 500000


def test_a_penalty_on_a_case_without_the_standard_met_is_not_held_up(session, users):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")  # no facts registered yet
    task = penalty_task(session, users, case)
    complete_task(session, users["samr_handler"], task.id, {**DECISION, "fine_to_credit": 1})
    session.refresh(task)
    assert "fine_to_credit" not in task.result, "nothing reached the police: nothing to credit"


def test_the_police_head_says_no_extension_is_needed(session, users):
    case = transferred(session, users, "某公司技术秘密案")
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    due = open_task(session, case.id, "decide_filing").due_at
    act(session, users["police_head"], case.id, "extend_review", {"review_period": "not_needed", "extension_reasons": ""})
    # The option is closed for the head's inbox; the decision keeps its 3 days.
    assert not [t for t in open_tasks(session, case.id) if t.bpmn_id == "extend_review"]
    assert open_task(session, case.id, "decide_filing").due_at == due
    assert "deadline_extended" not in event_types(session, case.id)


# --------------------------------------------------------------------------- 反向移送

def test_the_police_hand_a_case_they_dropped_to_samr_for_a_penalty(session, users):
    from tests.workflows.test_reverse_transfer_diagram import HANDLING, PROPOSAL

    case = transferred(session, users, "某公司技术秘密案")
    police_decide(session, users, case.id, NOT_FILE)
    start_mechanism(session, users["police_handler"], case.id, "reverse_transfer")
    act(session, users["police_handler"], case.id, "propose_reverse_transfer", PROPOSAL)
    act(session, users["police_head"], case.id, "approve_reverse_transfer", {"reverse_transfer_approved": True})
    [letter] = documents(session, case.id, "reverse_transfer_letter")
    assert letter.content["title"] == "移交行政处理函" and letter.content["recipient"].endswith("市场监督管理局")
    assert letter.content["steps"]["propose_reverse_transfer"]["reverse_materials"] == PROPOSAL["reverse_materials"]
    act(session, users["police_liaison"], case.id, "send_reverse_transfer", RELEASE)
    act(session, users["samr_liaison"], case.id, "accept_reverse_transfer", RECEIVED)
    decide = open_task(session, case.id, "decide_reverse_handling")
    assert (decide.lane, decide.deadline_rule_id, decide.deadline_rule) == (
        "samr.handler", "reverse_transfer_filing", "15wd")
    act(session, users["samr_handler"], case.id, "decide_reverse_handling", HANDLING)
    assert verify_audit(session, case.id) == []


def test_only_the_police_start_a_reverse_transfer(session, users):
    from engine import Forbidden

    case = transferred(session, users, "某公司技术秘密案")
    with pytest.raises(Forbidden):
        start_mechanism(session, users["samr_handler"], case.id, "reverse_transfer")
