"""案情会商 (consultation.bpmn) driven by SpiffWorkflow alone: every path, serialized at every step.

The convening pool's tasks go back to whichever agency started the consultation (the engine routes
them by `initiator_agency`); the invited pool asks each invited agency once (multi-instance over
`invited_agencies`, routed by `invited_agency`). Here we check what the diagram itself does.
"""
from __future__ import annotations

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from tests.workflows.diagram_checks import (
    NS,
    WORKFLOWS,
    assert_conventions,
    assert_every_element_is_drawn,
    assert_forms_mark_exactly_what_is_read,
    assert_layout_can_be_drawn,
    load_form,
    properties,
)
from tests.workflows.diagram_run import Run

BPMN_FILE = WORKFLOWS / "consultation.bpmn"
CASE_ID = 42
DUE_AT = "2026-03-05T15:59:59+00:00"

# What only the convening agency writes, and only the invited agencies: never on the other side.
CONVENER_KEYS = {"topic", "questions", "materials", "handoff_approved", "comment", "proposal_rounds",
                 "held_on", "participants", "minutes", "conclusion", "action_plan", "request_transfer",
                 "note", "answers"}
INVITED_KEYS = {"opinion", "legal_basis", "attendees", "consultation", "invited_agency"}
INVITATION_KEYS = {"case_id", "invited_agencies", "reply_deadline"}
ENDS = {"not_called", "answers_chased", "request_transfer", "consultation_closed", "answers_sent"}

PROPOSAL = {
    "topic": "某公司技术秘密被侵犯案定性问题",
    "questions": "1. 涉案信息是否构成商业秘密？2. 损失数额如何认定？",
    "materials": "调查报告摘要；鉴定意见名称。",
    "invited_agencies": ["police", "procuratorate"],
    "reply_deadline": "5wd",
}
APPROVE = {"handoff_approved": True}
RETURN = {"handoff_approved": False, "comment": "问题表述不清，请修改。"}
ANSWER = {"opinion": "经研究，涉案信息符合秘密性要求。", "legal_basis": "反不正当竞争法第九条"}
MINUTES = {"held_on": "2026-03-10", "participants": "市场监管、公安、检察", "minutes": "会议讨论了定性问题。",
           "conclusion": "涉嫌犯罪，应当移送。", "action_plan": "交办｜公安｜3｜调取银行流水",
           "request_transfer": True}


def side(task) -> str | None:
    name = task.workflow.spec.name
    bpmn_id = task.task_spec.bpmn_id
    if "convener_consultation" in (name, bpmn_id):
        return "convener"
    if "invited_consultation" in (name, bpmn_id):
        return "invited"
    return None


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side(task) == "invited":
            assert not keys & CONVENER_KEYS, (task.task_spec.bpmn_id, keys & CONVENER_KEYS)
            if "consultation" in keys:
                assert set(task.data["consultation"]) == INVITATION_KEYS
        elif side(task) == "convener":
            assert not keys & INVITED_KEYS, (task.task_spec.bpmn_id, keys & INVITED_KEYS)
            if "answers" in keys:
                assert task.data["answers"] == {"case_id": CASE_ID}


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_collaboration("consultation")


def start(collaboration, initiator="samr") -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": initiator}, assert_agencies_separated)


def invite(run: Run, proposal=PROPOSAL, returns: int = 0, copy_all: bool = False) -> None:
    for _ in range(returns):
        run.complete("propose_consultation", proposal, copy_all_form_data=copy_all)
        run.complete("approve_consultation", RETURN, copy_all_form_data=copy_all)
    run.complete("propose_consultation", proposal, copy_all_form_data=copy_all)
    assert run.ready() == [("approve_consultation", "samr.liaison")]
    run.complete("approve_consultation", APPROVE, copy_all_form_data=copy_all)


def answered_by(run: Run) -> list[str]:
    return sorted(d["invited_agency"] for d in run.ready_data("answer_consultation"))


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("order", [("police", "procuratorate"), ("procuratorate", "police")])
def test_invited_agencies_answer_in_any_order_then_minutes_start_a_transfer(collaboration, order):
    run = start(collaboration)
    assert run.ready() == [("propose_consultation", "samr.handler")]
    invite(run)
    assert answered_by(run) == ["police", "procuratorate"]
    # Every answer carries the deadline chosen on the proposal, for the engine to count.
    assert {d["reply_deadline"] for d in run.ready_data("answer_consultation")} == {"5wd"}
    assert run.data_at("receive_invitation")["consultation"] == {
        "case_id": CASE_ID, "invited_agencies": ["police", "procuratorate"], "reply_deadline": "5wd"}
    assert "await_answers" in run.waiting() and "answers_overdue" in run.waiting()
    first, second = order
    run.complete("answer_consultation", ANSWER, where={"invited_agency": first})
    assert answered_by(run) == [second]
    assert run.ready() == [("answer_consultation", "police.liaison")]
    run.complete("answer_consultation", ANSWER, where={"invited_agency": second})
    assert run.ready() == [("record_minutes", "samr.handler")]
    assert run.waiting() == [], "the reply deadline timer ends with the wait"
    run.complete("record_minutes", MINUTES)
    workflow = run.load()
    assert workflow.is_completed()
    assert run.completed(ENDS) == {"answers_sent", "request_transfer"}
    # The action item starts 立案协助 in another instance: ids only.
    assert run.events() == [("transfer_requested", {"case_id": CASE_ID, "requested_by": "consultation"})]


def test_minutes_without_a_transfer_close_the_consultation(collaboration):
    run = start(collaboration, initiator="police")
    invite(run, {**PROPOSAL, "invited_agencies": ["samr"]})
    assert answered_by(run) == ["samr"]
    run.complete("answer_consultation", ANSWER)
    run.complete("record_minutes", {**MINUTES, "request_transfer": False})
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"answers_sent", "consultation_closed"}
    assert run.events() == []


def test_the_convening_agency_is_never_invited(collaboration):
    run = start(collaboration, initiator="police")
    invite(run, {**PROPOSAL, "invited_agencies": ["police", "court"]})
    assert answered_by(run) == ["court"]
    assert run.data_at("receive_invitation")["consultation"]["invited_agencies"] == ["court"]


def test_inviting_only_oneself_goes_back_to_the_handler(collaboration):
    run = start(collaboration, initiator="court")
    run.complete("propose_consultation", {**PROPOSAL, "invited_agencies": ["court"]})
    run.complete("approve_consultation", APPROVE)
    assert run.ready() == [("propose_consultation", "samr.handler")]
    assert run.waiting() == []


def test_liaison_returns_the_proposal_then_approves(collaboration):
    run = start(collaboration)
    invite(run, returns=2)
    assert answered_by(run) == ["police", "procuratorate"]


def test_three_returned_proposals_end_the_consultation(collaboration):
    # The loop is bounded: proposal_rounds < 3 in the gateway.
    run = start(collaboration)
    for _ in range(3):
        run.complete("propose_consultation", PROPOSAL)
        run.complete("approve_consultation", RETURN)
    assert run.ready() == []
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"not_called"}
    assert run.data_at("not_called")["proposal_rounds"] == 3


def test_a_late_answer_is_chased_and_the_answers_still_arrive(collaboration):
    run = start(collaboration)
    invite(run)
    run.complete("answer_consultation", ANSWER, where={"invited_agency": "police"})
    run.fire_timer("answers_overdue", DUE_AT)
    # Non-interrupting: procuratorate's answer stays open while the convener's liaison chases it.
    assert run.ready() == [("answer_consultation", "police.liaison"), ("chase_answers", "samr.liaison")]
    run.complete("chase_answers", {"note": "已电话催告检察院。"})
    run.complete("answer_consultation", ANSWER, where={"invited_agency": "procuratorate"})
    run.complete("record_minutes", {**MINUTES, "request_transfer": False})
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"answers_chased", "answers_sent", "consultation_closed"}


def test_only_payloads_cross_even_if_all_form_data_were_copied(collaboration):
    run = start(collaboration)
    invite(run, returns=1, copy_all=True)  # topic, questions... are now convener workflow data
    assert "questions" in run.data_at("approve_consultation")
    for agency in ("procuratorate", "police"):
        run.complete("answer_consultation", ANSWER, where={"invited_agency": agency}, copy_all_form_data=True)
    run.complete("record_minutes", MINUTES, copy_all_form_data=True)  # every step checked both sides
    assert run.load().is_completed()


# --------------------------------------------------------------------------- conventions


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_passes_the_spiffworkflow_xsd():
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parser = SpiffBpmnParser(validator=validator)
        parser.add_bpmn_file(str(BPMN_FILE))
        parser.get_collaboration("consultation")


def test_conventions_and_routing(root):
    assert_conventions(root)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert properties(collab) == {"startable_by": "*.handler"}
    tasks = {t.get("id"): properties(t) for t in root.iterfind(".//bpmn:userTask", NS)}
    convener = {"propose_consultation", "approve_consultation", "chase_answers", "record_minutes"}
    for task in convener:
        assert tasks[task]["agency_from"] == "initiator_agency", task
    answer = tasks["answer_consultation"]
    assert (answer["agency_from"], answer["deadline"], answer["deadline_from"]) == \
        ("invited_agency", "consultation_reply", "reply_deadline")
    assert tasks["approve_consultation"]["handoff"] == answer["handoff"] == "outgoing"
    [timer] = root.iterfind(".//bpmn:boundaryEvent", NS)
    assert dict(properties(timer).items()) == {"deadline": "consultation_reply",
                                                             "deadline_from": "reply_deadline"}
    assert timer.get("cancelActivity") == "false"


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    # case_id and initiator_agency come from the engine, timer_due_at from a fired timer; the
    # rest from scripts, the invitation message and the multi-instance element.
    assert_forms_mark_exactly_what_is_read(root, supplied={
        "case_id", "initiator_agency", "timer_due_at", "proposal_rounds", "consultation", "invited_agency"})


@pytest.mark.parametrize(
    ("form", "data", "valid"),
    [
        ("consultation_proposal", PROPOSAL, True),
        ("consultation_proposal", {**PROPOSAL, "invited_agencies": []}, False),
        ("consultation_proposal", {**PROPOSAL, "invited_agencies": ["police", "police"]}, False),
        ("consultation_proposal", {**PROPOSAL, "invited_agencies": ["office"]}, False),
        ("consultation_proposal", {**PROPOSAL, "reply_deadline": "2wd"}, False),
        ("consultation_approval", {"handoff_approved": False}, False),
        ("consultation_approval", RETURN, True),
        ("consultation_answer", {"opinion": ""}, False),
        ("consultation_minutes", {**MINUTES, "held_on": "三月十日"}, False),
        ("consultation_minutes", {**MINUTES, "extra": 1}, False),
    ],
)
def test_form_rules(form, data, valid):
    validator = jsonschema.Draft202012Validator(load_form(form), format_checker=jsonschema.FormatChecker())
    assert (not list(validator.iter_errors(data))) is valid


def test_reply_deadline_defaults_to_three_working_days():
    assert load_form("consultation_proposal")["properties"]["reply_deadline"]["default"] == "3wd"


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "consultation", {"convener_consultation", "invited_consultation"})
    assert len(root.findall(".//bpmn:messageFlow", NS)) == 2


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["convener_pool", "invited_pool"])
