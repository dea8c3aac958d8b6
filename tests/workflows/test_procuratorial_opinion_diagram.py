"""检察意见 (procuratorial_opinion.bpmn, reverse linkage) driven by SpiffWorkflow alone."""
from __future__ import annotations

import pytest
from lxml import etree

from tests.workflows.diagram_checks import (
    NS,
    WORKFLOWS,
    assert_conventions,
    assert_every_element_is_drawn,
    assert_forms_mark_exactly_what_is_read,
    assert_layout_can_be_drawn,
    assert_passes_the_xsd,
    form_accepts,
    parse_collaboration,
    properties,
)
from tests.workflows.diagram_run import Run

BPMN_FILE = WORKFLOWS / "procuratorial_opinion.bpmn"
CASE_ID = 42
ENDS = {"opinion_not_issued", "opinion_closed", "opinion_reply_sent", "report_opinion_reply_missed",
        "opinion_reply_pressed"}
DUE_AT = "2026-05-11T15:59:59+00:00"
DRAFT = {"non_prosecution_number": "东检不诉〔2026〕3号", "non_prosecution_reasons": "犯罪情节轻微。",
         "opinion": "建议依照反不正当竞争法第二十一条给予行政处罚。"}
APPROVE = {"opinion_approved": True}
REFUSE = {"opinion_approved": False, "comment": "证据不足以支持处罚建议。"}
REPLY = {"administrative_handling": "penalty_imposed", "penalty_decision_number": "东市监罚〔2026〕5号",
         "reply": "已处罚款20万元。"}


def side(task) -> str | None:
    for name in (task.workflow.spec.name, task.task_spec.bpmn_id):
        if name in ("procuratorate_procuratorial_opinion", "samr_procuratorial_opinion"):
            return name.split("_")[0]
    return None


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side(task) == "samr":
            assert not keys & {"opinion_approved", "opinion_reply", "opinion_reply_overdue_report"}, task.task_spec.bpmn_id
            assert set(task.data.get("legal_events", {})) <= {"opinion_received"}, task.task_spec.bpmn_id
            if "procuratorial_opinion" in keys:
                assert task.data["procuratorial_opinion"] == {"case_id": CASE_ID}
        elif side(task) == "procuratorate":
            assert not keys & {"administrative_handling", "procuratorial_opinion", "legal_events"}, task.task_spec.bpmn_id
            if "opinion_reply_overdue_report" in keys:
                assert set(task.data["opinion_reply_overdue_report"]) == {"case_id", "task", "due_at"}


@pytest.fixture(scope="module")
def collaboration():
    return parse_collaboration(BPMN_FILE, "procuratorial_opinion")


def start(collaboration) -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "procuratorate"}, assert_agencies_separated)


def test_opinion_goes_to_samr_and_the_reply_comes_back(collaboration):
    run = start(collaboration)
    assert run.ready() == [("record_non_prosecution", "procuratorate.handler")]
    run.complete("record_non_prosecution", DRAFT)
    assert run.ready() == [("approve_procuratorial_opinion", "procuratorate.head")]
    run.complete("approve_procuratorial_opinion", APPROVE)
    assert run.ready() == [("send_procuratorial_opinion", "procuratorate.liaison")]
    run.complete("send_procuratorial_opinion", {"released": True})
    assert run.ready() == [("accept_procuratorial_opinion", "samr.liaison")]
    run.complete("accept_procuratorial_opinion", {"received": True})
    assert run.ready() == [("decide_administrative_handling", "samr.handler")]
    run.complete("decide_administrative_handling", REPLY)
    assert run.ready() == [("send_opinion_reply", "samr.liaison")]
    run.complete("send_opinion_reply", {"released": True})
    assert run.ready() == [("receive_opinion_reply", "procuratorate.liaison")]
    assert run.data_at("await_opinion_reply")["opinion_reply"] == {
        "case_id": CASE_ID, "administrative_handling": "penalty_imposed"}
    run.complete("receive_opinion_reply", {"received": True})
    run.complete("record_opinion_reply", {"acknowledged": True})
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"opinion_reply_sent", "opinion_closed"}
    assert run.events() == []


def test_a_late_reply_is_reported_and_pressed_while_both_wait(collaboration):
    run = start(collaboration)
    run.complete("record_non_prosecution", DRAFT)
    run.complete("approve_procuratorial_opinion", APPROVE)
    run.complete("send_procuratorial_opinion", {"released": True})
    run.complete("accept_procuratorial_opinion", {"received": True})
    # The two months run from SAMR's receipt of the opinion.
    assert set(run.ready_data("decide_administrative_handling")[0]["legal_events"]) == {"opinion_received"}
    run.fire_timer("decide_administrative_handling_overdue", DUE_AT)
    assert run.ready() == [("decide_administrative_handling", "samr.handler"),
                           ("press_opinion_reply", "procuratorate.handler")]
    assert "await_opinion_reply" in run.waiting()
    assert run.data_at("press_opinion_reply")["opinion_reply_overdue_report"] == {
        "case_id": CASE_ID, "task": "decide_administrative_handling", "due_at": DUE_AT}
    run.complete("press_opinion_reply", {"note": "已发函督促回复。"})
    run.complete("decide_administrative_handling", REPLY)
    run.complete("send_opinion_reply", {"released": True})
    run.complete("receive_opinion_reply", {"received": True})
    run.complete("record_opinion_reply", {"acknowledged": True})
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"opinion_reply_sent", "opinion_closed", "report_opinion_reply_missed",
                                   "opinion_reply_pressed"}


def test_the_chief_may_decline_to_issue_the_opinion(collaboration):
    run = start(collaboration)
    run.complete("record_non_prosecution", DRAFT)
    run.complete("approve_procuratorial_opinion", REFUSE)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"opinion_not_issued"}


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_passes_the_spiffworkflow_xsd():
    assert_passes_the_xsd(BPMN_FILE, "procuratorial_opinion")


def test_conventions_deadline_and_handoffs(root):
    assert_conventions(root)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert properties(collab) == {"startable_by": "procuratorate.handler"}
    tasks = {t.get("id"): properties(t) for t in root.iterfind(".//bpmn:userTask", NS)}
    assert {k: p["deadline"] for k, p in tasks.items() if "deadline" in p} == {
        "decide_administrative_handling": "opinion_reply", "press_opinion_reply": "supervision_follow_up"}
    assert {k: p["records_event"] for k, p in tasks.items() if "records_event" in p} == {
        "accept_procuratorial_opinion": "opinion_received"}
    boundaries = {b.get("id"): (b.get("attachedToRef"), properties(b), b.get("cancelActivity"))
                  for b in root.iterfind(".//bpmn:boundaryEvent", NS)}
    assert boundaries == {
        "decide_administrative_handling_overdue": ("decide_administrative_handling", {"deadline": "opinion_reply"},
                                                   "false"),
        "opinion_reply_overdue": ("await_opinion_reply", {}, "false")}
    assert {k: p["handoff"] for k, p in tasks.items() if "handoff" in p} == {
        "send_procuratorial_opinion": "outgoing", "accept_procuratorial_opinion": "incoming",
        "send_opinion_reply": "outgoing", "receive_opinion_reply": "incoming"}
    assert tasks["approve_procuratorial_opinion"]["documents"] == "procuratorial_opinion if opinion_approved == True"


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={"case_id", "timer_due_at"})


@pytest.mark.parametrize(
    ("form", "data", "valid"),
    [
        ("procuratorial_opinion_draft", DRAFT, True),
        ("procuratorial_opinion_draft", {**DRAFT, "opinion": ""}, False),
        ("procuratorial_opinion_approval", {"opinion_approved": False}, False),
        ("procuratorial_opinion_approval", REFUSE, True),
        ("opinion_reply", REPLY, True),
        ("opinion_reply", {**REPLY, "administrative_handling": "ignored"}, False),
    ],
)
def test_form_rules(form, data, valid):
    assert form_accepts(form, data) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "procuratorial_opinion", {
        "procuratorate_procuratorial_opinion", "samr_procuratorial_opinion"})
    assert len(root.findall(".//bpmn:messageFlow", NS)) == 3


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["procuratorate_pool", "samr_pool"])
