"""反向移送 (reverse_transfer.bpmn) driven by SpiffWorkflow alone: the police hand a case they will
not pursue to SAMR for an administrative penalty, through both liaisons, with the materials list."""
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

BPMN_FILE = WORKFLOWS / "reverse_transfer.bpmn"
CASE_ID = 11
PROPOSAL = {"reverse_ground": "case_withdrawn", "reasons": "侦查查明损失不足30万元，已撤销案件；其侵犯商业秘密行为应予行政处罚。",
            "reverse_materials": "询问笔录｜3｜原件\n涉案U盘｜1｜封存完好"}
RELEASE, RECEIVED = {"released": True}, {"received": True}
HANDLING = {"filed_for_investigation": True, "administrative_measures": "立案调查，由执法稽查科承办。",
            "materials_checked": True}
POLICE_KEYS = {"reverse_ground", "reasons", "reverse_materials", "reverse_transfer_approved", "comment"}


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        if "samr_reverse_transfer" in (task.workflow.spec.name, task.task_spec.bpmn_id):
            assert not set(task.data) & POLICE_KEYS, task.task_spec.bpmn_id


@pytest.fixture(scope="module")
def collaboration():
    return parse_collaboration(BPMN_FILE, "reverse_transfer")


def start(collaboration) -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "police"}, assert_agencies_separated)


def test_the_police_hand_the_case_to_samr_with_the_materials(collaboration):
    run = start(collaboration)
    assert run.ready() == [("propose_reverse_transfer", "police.handler")]
    run.complete("propose_reverse_transfer", PROPOSAL)
    run.complete("approve_reverse_transfer", {"reverse_transfer_approved": True})
    assert run.ready() == [("send_reverse_transfer", "police.liaison")]
    run.complete("send_reverse_transfer", RELEASE)
    assert run.ready() == [("accept_reverse_transfer", "samr.liaison")]
    assert run.data_at("accept_reverse_transfer")["reverse_transfer"] == {
        "case_id": CASE_ID, "ground": "case_withdrawn", "materials": PROPOSAL["reverse_materials"]}
    run.complete("accept_reverse_transfer", RECEIVED)
    assert run.ready() == [("decide_reverse_handling", "samr.handler")]
    assert "reverse_transfer_received" in run.data_at("decide_reverse_handling")["legal_events"]
    run.complete("decide_reverse_handling", HANDLING)
    assert run.load().is_completed()


def test_the_head_may_keep_the_case(collaboration):
    run = start(collaboration)
    run.complete("propose_reverse_transfer", PROPOSAL)
    run.complete("approve_reverse_transfer", {"reverse_transfer_approved": False, "comment": "尚需补充侦查"})
    assert run.load().is_completed() and run.events() == []


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_passes_the_spiffworkflow_xsd():
    assert_passes_the_xsd(BPMN_FILE, "reverse_transfer")


def test_conventions_deadline_and_handoffs(root):
    assert_conventions(root)
    assert properties(root.find("bpmn:collaboration", NS)) == {"startable_by": "police.handler"}
    handoffs = {t.get("id"): properties(t).get("handoff") for t in root.iterfind(".//bpmn:userTask", NS)}
    assert {k: v for k, v in handoffs.items() if v} == {
        "send_reverse_transfer": "outgoing", "accept_reverse_transfer": "incoming"}
    decide = root.find(".//bpmn:userTask[@id='decide_reverse_handling']", NS)
    assert properties(decide)["deadline"] == "reverse_transfer_filing"


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={"case_id"})


@pytest.mark.parametrize(("form", "data", "valid"), [
    ("reverse_transfer_proposal", PROPOSAL, True),
    ("reverse_transfer_proposal", {**PROPOSAL, "reverse_materials": "询问笔录三份"}, False),
    ("reverse_transfer_proposal", {**PROPOSAL, "reverse_ground": "other"}, False),
    ("reverse_transfer_approval", {"reverse_transfer_approved": False}, False),
    ("reverse_transfer_handling", {**HANDLING, "materials_checked": False}, False),
])
def test_form_rules(form, data, valid):
    assert form_accepts(form, data) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "reverse_transfer", {"police_reverse_transfer", "samr_reverse_transfer"})


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["police_pool", "samr_pool"])
