"""检察意见：要求移送 (transfer_opinion.bpmn) driven by SpiffWorkflow alone: the procuratorate requires
SAMR to transfer a case it should have (Decree 310 art. 14), and SAMR answers."""
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

BPMN_FILE = WORKFLOWS / "transfer_opinion.bpmn"
CASE_ID = 43
DUE_AT = "2026-03-16T15:59:59+00:00"
DRAFT = {"facts": "权利人损失经鉴定为50万元，该局仅作行政处罚。", "opinion": "涉案数额已达立案追诉标准，应当移送公安机关。"}
APPROVE = {"opinion_approved": True}
REPLY = {"transfer_answer": "transferred", "reasons": "已于3月10日移送区公安分局。"}


def side(task) -> str | None:
    for name in (task.workflow.spec.name, task.task_spec.bpmn_id):
        if name in ("procuratorate_transfer_opinion", "samr_transfer_opinion"):
            return name.split("_")[0]
    return None


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side(task) == "samr":
            assert not keys & {"opinion_approved", "opinion_reply", "opinion_reply_overdue_report"}
            assert set(task.data.get("legal_events", {})) <= {"transfer_opinion_received"}
        elif side(task) == "procuratorate":
            assert not keys & {"transfer_answer", "procuratorial_opinion", "legal_events"}, task.task_spec.bpmn_id


@pytest.fixture(scope="module")
def collaboration():
    return parse_collaboration(BPMN_FILE, "transfer_opinion")


def start(collaboration) -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "procuratorate"}, assert_agencies_separated)


def sent(run: Run) -> None:
    assert run.ready() == [("record_transfer_opinion", "procuratorate.handler")]
    run.complete("record_transfer_opinion", DRAFT)
    run.complete("approve_procuratorial_opinion", APPROVE)
    run.complete("send_procuratorial_opinion", {"released": True})
    assert run.ready() == [("accept_procuratorial_opinion", "samr.liaison")]
    run.complete("accept_procuratorial_opinion", {"received": True})
    assert run.ready() == [("decide_transfer_on_opinion", "samr.handler")]


def test_the_opinion_requires_a_transfer_and_samr_answers(collaboration):
    run = start(collaboration)
    sent(run)
    run.complete("decide_transfer_on_opinion", REPLY)
    run.complete("send_opinion_reply", {"released": True})
    assert run.data_at("await_opinion_reply")["opinion_reply"] == {"case_id": CASE_ID, "transfer_answer": "transferred"}
    run.complete("receive_opinion_reply", {"received": True})
    run.complete("record_opinion_reply", {"acknowledged": True})
    assert run.load().is_completed()


def test_a_late_answer_is_reported_and_pressed(collaboration):
    run = start(collaboration)
    sent(run)
    run.fire_timer("decide_transfer_on_opinion_overdue", DUE_AT)
    assert run.ready() == [("decide_transfer_on_opinion", "samr.handler"), ("press_opinion_reply", "procuratorate.handler")]
    assert run.data_at("press_opinion_reply")["opinion_reply_overdue_report"] == {
        "case_id": CASE_ID, "task": "decide_transfer_on_opinion", "due_at": DUE_AT}


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_passes_the_spiffworkflow_xsd():
    assert_passes_the_xsd(BPMN_FILE, "transfer_opinion")


def test_conventions_deadline_and_handoffs(root):
    assert_conventions(root)
    assert properties(root.find("bpmn:collaboration", NS)) == {"startable_by": "procuratorate.handler"}
    tasks = {t.get("id"): properties(t) for t in root.iterfind(".//bpmn:userTask", NS)}
    assert {k: p["deadline"] for k, p in tasks.items() if "deadline" in p} == {
        "decide_transfer_on_opinion": "transfer_opinion_reply", "press_opinion_reply": "supervision_follow_up"}
    assert tasks["approve_procuratorial_opinion"]["documents"] == "transfer_opinion if opinion_approved == True"
    assert {k: p["records_event"] for k, p in tasks.items() if "records_event" in p} == {
        "accept_procuratorial_opinion": "transfer_opinion_received"}


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={"case_id", "timer_due_at"})


@pytest.mark.parametrize(("form", "data", "valid"), [
    ("transfer_opinion_draft", DRAFT, True), ("transfer_opinion_draft", {**DRAFT, "facts": ""}, False),
    ("transfer_opinion_reply", REPLY, True), ("transfer_opinion_reply", {**REPLY, "transfer_answer": "x"}, False)])
def test_form_rules(form, data, valid):
    assert form_accepts(form, data) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "transfer_opinion", {"procuratorate_transfer_opinion", "samr_transfer_opinion"})


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["procuratorate_pool", "samr_pool"])
