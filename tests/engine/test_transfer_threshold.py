"""The criminal-threshold table decides something: the handler and the head see its answer, the rule
that fired and its inputs; approving below the standard without reasonable suspicion needs a
reason, the administrative route is a choice; the 移送书 states the ground, the two officers who
signed the report and the evidence actually attached. On SQLite and PostgreSQL (real BPMN, real DMN)."""
from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

import engine
from engine import InvalidInput, Term, claim_task, complete_task, create_case, task_context
from engine.mechanisms.transfer import Threshold, ThresholdFact, TransferLine
from models import AuditEvent, Document, HumanTask, Message
from tests.conftest import START
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, act, instance_of, open_task, open_tasks

REFUSE_TO_PENALTY = {"transfer_approved": False, "reasons": "未达到追诉标准，由本局依法处罚",
                     "administrative_penalty": True}
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def registered(session, users, **facts):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    act(session, users["samr_handler"], case.id, "register_facts", {**FACTS_500K, **facts})
    return case


def lines(session, user, task) -> dict:
    return {title: value for title, value, *_ in task_context(session, user, task)}


def head_sees(session, users, case) -> dict:
    return lines(session, users["samr_head"], open_task(session, case.id, "decide_transfer"))


def recorded(session, case) -> dict:
    """The threshold decision as the workflow holds it at the head's step."""
    from engine.mechanisms.transfer import threshold_decision
    return threshold_decision(session, instance_of(session, case.id))


def test_loss_at_the_standard_is_shown_with_its_rule_inputs_and_version(session, users):
    case = registered(session, users, loss_amount=500000, illegal_gain=None)
    seen = head_sees(session, users, case)
    assert seen[TransferLine.THRESHOLD] == Term("Threshold", "amount_met", {
        "input": TransferLine.LOSS_AMOUNT, "amount": "500,000", "limit": "300,000", "outcome": Threshold.CRIMINAL})
    assert seen[TransferLine.THRESHOLD_RULE] == Term("Workflow", "给权利人造成损失数额三十万元以上：达到立案追诉标准")
    assert seen[TransferLine.LOSS_AMOUNT] == Term("Threshold", "yuan", {"amount": "500,000"})
    assert seen[TransferLine.ILLEGAL_GAIN] == Term("Threshold", "amount_unknown")
    assert seen[TransferLine.THRESHOLD_TABLE] == Term("Threshold", "table", {"version": "2021.1", "effective": "2021-03-01"})
    assert "情节严重" in seen[TransferLine.LEGAL_SOURCE].code
    assert seen[TransferLine.SIGNING_OFFICERS] == ["王承办（市场监管）", "李承办（市场监管）"]
    assert TransferLine.PLEASE_NOTE not in seen
    # The decision records which version of the table decided, the row and the inputs.
    decision = recorded(session, case)
    assert decision["version"] == "2021.1" and decision["rule"] == "rule_loss"
    assert decision["inputs"] == {"loss_amount": 500000, "illegal_gain": None, "bankruptcy_caused": False,
                                  "other_major_loss": False, "police_measures_needed": False}
    # The case's timeline says so, with the version, the row and the inputs.
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.event_type == "threshold_assessed")).all()
    assert event.detail["title"] == "给权利人造成损失数额三十万元以上：达到立案追诉标准"
    assert (event.detail["rule"], event.detail["version"], event.detail["threshold"]) == ("rule_loss", "2021.1", "criminal")
    assert event.detail["inputs"]["illegal_gain"] is None
    # The handler sees the same on the report once it is registered.
    report = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                     HumanTask.bpmn_id == "register_facts")).one()
    assert lines(session, users["samr_handler"], report)[TransferLine.THRESHOLD] == seen[TransferLine.THRESHOLD]


@pytest.mark.parametrize(("facts", "outcome", "rule"), [
    ({"loss_amount": 2500000}, Threshold.ESPECIALLY_SERIOUS, "rule_loss_especially_serious"),
    ({"loss_amount": 2499999}, Threshold.CRIMINAL, "rule_loss"),
    ({"loss_amount": None, "illegal_gain": 300000}, Threshold.CRIMINAL, "rule_gain"),
])
def test_both_sides_of_the_upper_boundary_and_gain_with_unknown_loss(session, users, facts, outcome, rule):
    case = registered(session, users, **facts)
    seen = head_sees(session, users, case)
    assert seen[TransferLine.THRESHOLD].args["outcome"] == outcome
    assert recorded(session, case)["rule"] == rule


def test_below_the_standard_approval_needs_a_reason_and_the_letter_states_it(session, users):
    case = registered(session, users, loss_amount=299999, illegal_gain=0)
    seen = head_sees(session, users, case)
    assert seen[TransferLine.THRESHOLD] == Threshold.BELOW_THRESHOLD
    assert seen[TransferLine.PLEASE_NOTE] == Term("Threshold", "reason_needed")
    decide = open_task(session, case.id, "decide_transfer")
    claim_task(session, users["samr_head"], decide.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_head"], decide.id,
                      {"transfer_approved": True, "reasons": " ", "administrative_penalty": False})
    assert "reasonable suspicion" in refused.value.errors["reasons"][0]
    assert open_task(session, case.id, "decide_transfer").state == "open", "nothing moved"
    complete_task(session, users["samr_head"], decide.id,
                  {"transfer_approved": True, "reasons": "权利人损失仍在鉴定，需公安机关固定证据",
                   "administrative_penalty": False})
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    letter = session.scalars(select(Document).where(Document.case_id == case.id,
                                                    Document.kind == "transfer_letter")).one()
    assert letter.content["threshold"]["threshold"] == "below_threshold"
    assert letter.content["threshold"]["rule"] == "rule_below_threshold"
    assert letter.content["steps"]["decide_transfer"]["reasons"] == "权利人损失仍在鉴定，需公安机关固定证据"


def test_unknown_amounts_are_not_zero_and_leave_the_question_open(session, users):
    case = registered(session, users, loss_amount=None, illegal_gain=None)
    seen = head_sees(session, users, case)
    assert seen[TransferLine.THRESHOLD] == Threshold.UNKNOWN
    assert seen[TransferLine.LOSS_AMOUNT] == Term("Threshold", "amount_unknown")
    assert seen[TransferLine.PLEASE_NOTE] == Term("Threshold", "reason_needed")
    assert recorded(session, case)["inputs"]["loss_amount"] is None


def test_reasonable_suspicion_needs_no_reason_and_is_the_letters_ground(session, users):
    case = registered(session, users, loss_amount=100000, illegal_gain=None, police_measures_needed=True)
    seen = head_sees(session, users, case)
    assert seen[TransferLine.THRESHOLD] == Threshold.REASONABLE_SUSPICION
    assert seen[TransferLine.OTHER_FACTS] == [ThresholdFact.POLICE_MEASURES_NEEDED]
    assert TransferLine.PLEASE_NOTE not in seen
    act(session, users["samr_head"], case.id, "decide_transfer",
        {"transfer_approved": True, "administrative_penalty": False})
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    letter = session.scalars(select(Document).where(Document.case_id == case.id)).one()
    assert letter.content["threshold"]["threshold"] == "reasonable_suspicion"


def test_the_head_may_send_the_case_to_administrative_penalty_instead(session, users):
    case = registered(session, users, loss_amount=299999, illegal_gain=0)
    act(session, users["samr_head"], case.id, "decide_transfer", REFUSE_TO_PENALTY)
    instance = instance_of(session, case.id)
    assert instance.status == "completed"
    assert open_tasks(session, case.id) == []
    assert not session.scalars(select(Message).where(Message.case_id == case.id)).all(), "nothing went to the police"
    assert session.scalars(select(Document).where(Document.case_id == case.id)).all() == []


def test_approving_forces_no_administrative_route(session, users):
    case = registered(session, users)
    act(session, users["samr_head"], case.id, "decide_transfer", {**APPROVE_TRANSFER, "administrative_penalty": True})
    assert open_task(session, case.id, "approve_outgoing_handoff")
    done = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                   HumanTask.bpmn_id == "decide_transfer")).one()
    assert done.result["administrative_penalty"] is False


@pytest.mark.parametrize(("officers", "reason"), [
    (["samr_handler"], "is too short"),
    (["samr_handler", "samr_handler"], "non-unique"),
    (["samr_handler2", "samr_handler2"], "non-unique"),
    (["samr_handler", "police_handler"], "is not one of the options offered"),
    (["samr_handler2", "samr_head"], "is not one of the options offered"),
])
def test_two_distinct_samr_officers_sign_the_report(session, users, officers, reason):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    task = open_task(session, case.id, "register_facts")
    claim_task(session, users["samr_handler"], task.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler"], task.id, {**FACTS_500K, "signing_officers": officers})
    assert any(reason in m for m in refused.value.errors["signing_officers"]), refused.value.errors


def test_the_registering_officer_is_one_of_the_signers(session, users):
    engine.create_user(session, "samr_handler3", "pw-samr_handler3-2026", "赵承办（市场监管）", "samr", ["handler"])
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    task = open_task(session, case.id, "register_facts")
    claim_task(session, users["samr_handler2"], task.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler2"], task.id,
                      {**FACTS_500K, "signing_officers": ["samr_handler", "samr_handler3"]})
    assert "must be one of the officers signing" in refused.value.errors["signing_officers"][0]
    complete_task(session, users["samr_handler2"], task.id,
                  {**FACTS_500K, "signing_officers": ["samr_handler3", "samr_handler2"]})
    assert lines(session, users["samr_head"], open_task(session, case.id, "decide_transfer"))[
        TransferLine.SIGNING_OFFICERS] == ["赵承办（市场监管）", "李承办（市场监管）"]


def test_the_letter_lists_the_officers_and_the_evidence_actually_attached(session, users, tmp_path):
    store = engine.EvidenceStore(tmp_path / "evidence", 4096)
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    engine.add_evidence(session, store, users["samr_handler"], case.id, {
        "kind": "electronic_data", "description": "服务器访问日志", "source": "现场提取", "collected_at": START,
        "collector_1": "王承办", "collector_2": "李承办", "declared_sha256": hashlib.sha256(PDF).hexdigest(),
        "confidential": True}, io.BytesIO(PDF), "日志.pdf")
    engine.add_evidence(session, store, users["samr_handler2"], case.id, {
        "kind": "documentary", "description": "保密协议复印件", "source": "权利人提供", "collected_at": START,
        "collector_1": "王承办", "collector_2": "李承办", "confidential": False})
    act(session, users["samr_handler"], case.id, "register_facts", {**FACTS_500K, "loss_amount": 2600000})
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    letter = session.scalars(select(Document).where(Document.case_id == case.id)).one()
    content = letter.content
    assert content["signing_officers"] == ["王承办（市场监管）", "李承办（市场监管）"]
    assert [(a["kind"], a["description"], a["file"]) for a in content["attachments"]] == [
        ("电子数据", "服务器访问日志", "日志.pdf"), ("书证", "保密协议复印件", "")]
    assert content["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert content["threshold"]["rule"] == "rule_loss_especially_serious"
    assert content["threshold"]["especially_serious"] is True
    assert content["threshold"]["version"] == "2021.1"
