"""权利人刑事救济 (rights_holder_remedies.bpmn) driven by SpiffWorkflow alone: every path, serialized at
every step; the legal events the periods run from recorded where they happen; a request received
after the holder's 7 days registered, then accepted or refused as out of time; the procuratorate's
run starts 立案监督 with the rights holder as its source and carries no police data."""
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

BPMN_FILE = WORKFLOWS / "rights_holder_remedies.bpmn"
CASE_ID = 11
REPORT = {"holder_id": 3, "received_on": "2026-03-02", "report_kind": "accusation",
          "summary": "前员工带走配方并在竞争对手处使用。"}
NOT_FILE = {"report_decision": "not_file", "reasons": "现有证据不能证明损失达到立案追诉标准。"}
FILE = {"report_decision": "file", "reasons": "符合立案条件。"}
SERVED = {"served_at": "2026-03-06T10:00:00+08:00", "method": "in_person", "served_by": "民警王某",
          "recipient": "某公司法务张某"}
REQUESTED = {"reconsideration_requested": True, "requested_on": "2026-03-10", "request_reasons": "损失已有审计报告。"}
LATE = {"late_request_received": True, "requested_on": "2026-03-20", "request_reasons": "损失已有审计报告。",
        "delay_reasons": "法定代表人住院治疗。", "materials": "复议申请书1份；住院证明1份"}
NO_LATE = {"late_request_received": False}
SUPERVISION = {"holder_id": 3, "received_on": "2026-03-20", "non_filing_notice_number": "东公控不立〔2026〕1号",
               "police_non_filing_reasons": "损失未达标准", "request_reasons": "公安机关应当立案而不立案。"}
POLICE_KEYS = {"holder_id", "received_on", "report_kind", "summary", "report_decision", "reasons", "served_at",
               "method", "served_by", "recipient", "reconsideration_requested", "requested_on", "request_reasons",
               "reconsideration_result", "late_request_received", "delay_reasons", "materials", "late_request_decision"}


def side(task) -> str | None:
    for process, agency in (("police_rights_holder_remedies", "police"),
                            ("procuratorate_rights_holder_remedies", "procuratorate")):
        if process in (task.workflow.spec.name, task.task_spec.bpmn_id):
            return agency
    return None


def assert_agencies_separated(workflow) -> None:
    """Only x-variables enter the workflow, and nothing of the police's pool reaches the procuratorate's."""
    for task in workflow.get_tasks():
        if side(task) == "procuratorate":
            assert not set(task.data) & (POLICE_KEYS | {"report_decision"}), set(task.data) & POLICE_KEYS
            if "supervision_request_lodged" in task.data:
                assert task.data["supervision_request_lodged"] == {"case_id": CASE_ID}


@pytest.fixture(scope="module")
def collaboration():
    return parse_collaboration(BPMN_FILE, "rights_holder_remedies")


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def started(collaboration, agency: str) -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": agency}, assert_agencies_separated)


def not_filed_and_served(collaboration) -> Run:
    run = started(collaboration, "police")
    assert run.ready() == [("register_holder_report", "police.handler")]
    run.complete("register_holder_report", REPORT)
    assert run.ready() == [("decide_holder_report", "police.head")]
    assert run.ready_data("decide_holder_report")[0]["legal_events"] == {"holder_report_received": "2026-03-02"}
    run.complete("decide_holder_report", NOT_FILE)
    assert run.ready() == [("serve_non_filing_notice", "police.handler")]
    assert set(run.ready_data("serve_non_filing_notice")[0]["legal_events"]) == {
        "holder_report_received", "holder_report_decided"}
    run.complete("serve_non_filing_notice", SERVED)
    assert run.ready() == [("record_reconsideration_request", "police.handler")]
    # The holder's 7 days run from the notice's service, entered on the service record.
    assert run.ready_data("record_reconsideration_request")[0]["legal_events"]["holder_non_filing_notice_received"] \
        == SERVED["served_at"]
    assert run.waiting() == ["request_window_closed"]
    return run


def test_filed_report_ends_without_a_notice(collaboration):
    run = started(collaboration, "police")
    run.complete("register_holder_report", REPORT)
    run.complete("decide_holder_report", FILE)
    assert run.load().is_completed()
    assert run.completed({"report_filed"}) == {"report_filed"}
    assert run.events() == []


def test_reconsideration_requested_and_decided(collaboration):
    run = not_filed_and_served(collaboration)
    run.complete("record_reconsideration_request", REQUESTED)
    assert run.ready() == [("decide_holder_reconsideration", "police.head")]
    assert run.ready_data("decide_holder_reconsideration")[0]["legal_events"]["holder_reconsideration_requested"] \
        == "2026-03-10"
    assert run.waiting() == []
    run.complete("decide_holder_reconsideration", {"reconsideration_result": "maintain", "reasons": "维持。"})
    assert run.load().is_completed()
    assert run.completed({"reconsideration_decided"}) == {"reconsideration_decided"}


def test_holder_declines_reconsideration(collaboration):
    run = not_filed_and_served(collaboration)
    run.complete("record_reconsideration_request", {"reconsideration_requested": False})
    assert run.load().is_completed()
    assert run.completed({"not_requested"}) == {"not_requested"}


def window_closed(collaboration) -> Run:
    """The holder's 7 days end without a request: the registration is cancelled, and a request
    received from now on is registered as a late one."""
    run = not_filed_and_served(collaboration)
    run.fire_timer("request_window_closed", "2026-03-13T15:59:59+00:00")
    assert run.ready() == [("record_late_request", "police.handler")]
    assert run.waiting() == []
    return run


def test_the_request_window_closes_after_its_period(collaboration):
    run = window_closed(collaboration)
    run.complete("record_late_request", NO_LATE)
    assert run.load().is_completed()
    assert run.completed({"window_closed", "decide_late_request"}) == {"window_closed"}


def test_a_late_request_accepted_goes_to_the_reconsideration_decision(collaboration):
    run = window_closed(collaboration)
    run.complete("record_late_request", LATE)
    assert run.ready() == [("decide_late_request", "police.head")]
    run.complete("decide_late_request", {"late_request_decision": "accept", "reasons": "住院治疗，逾期有正当理由。"})
    assert run.ready() == [("decide_holder_reconsideration", "police.head")]
    # The 30 days for the decision run from the late request's receipt.
    assert run.ready_data("decide_holder_reconsideration")[0]["legal_events"]["holder_reconsideration_requested"] \
        == "2026-03-20"
    run.complete("decide_holder_reconsideration", {"reconsideration_result": "maintain", "reasons": "维持。"})
    assert run.load().is_completed()
    assert run.completed({"reconsideration_decided", "late_request_refused"}) == {"reconsideration_decided"}


def test_a_late_request_refused_as_out_of_time_is_served(collaboration):
    run = window_closed(collaboration)
    run.complete("record_late_request", LATE)
    run.complete("decide_late_request", {"late_request_decision": "refuse", "reasons": "逾期无正当理由。"})
    assert run.ready() == [("serve_late_refusal", "police.handler")]
    run.complete("serve_late_refusal", SERVED)
    assert run.load().is_completed()
    assert run.completed({"late_request_refused", "decide_holder_reconsideration"}) == {"late_request_refused"}


@pytest.mark.parametrize("decision", ["supervise", "not_supervise"])
def test_procuratorate_examines_the_holders_request(collaboration, decision):
    run = started(collaboration, "procuratorate")
    # The police's pool only hands the run to the procuratorate: no police task.
    assert run.ready() == [("register_supervision_request", "procuratorate.handler")]
    run.complete("register_supervision_request", SUPERVISION)
    assert run.ready_data("examine_holder_request")[0]["legal_events"] == {"holder_supervision_requested": "2026-03-20"}
    run.complete("examine_holder_request", {"holder_request_decision": decision, "opinion": "经审查。"})
    assert run.ready() == [("reply_to_holder", "procuratorate.handler")]
    expected = [("filing_supervision_requested", {"case_id": CASE_ID, "supervision_trigger": "rights_holder",
                                                  "non_filing_reasons": "损失未达标准", "samr_request_reasons": ""})]
    assert run.events() == (expected if decision == "supervise" else [])
    run.complete("reply_to_holder", {"reply": "经审查，已要求公安机关说明不立案理由。"})
    assert run.load().is_completed()


def test_passes_the_spiffworkflow_xsd():
    assert_passes_the_xsd(BPMN_FILE, "rights_holder_remedies")


def test_conventions_periods_and_documents(root):
    assert_conventions(root)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert properties(collab) == {"startable_by": "police.handler, procuratorate.handler"}

    def props(element_id):
        [element] = root.iterfind(f".//*[@id='{element_id}']", NS)
        return properties(element)

    assert props("decide_holder_report")["deadline"] == "holder_report_filing_decision"
    assert props("decide_holder_report")["records_event"] == "holder_report_decided"
    assert props("serve_non_filing_notice")["deadline"] == "holder_non_filing_notice_service"
    assert props("serve_non_filing_notice")["hook"] == "serve_holder_notice"
    assert props("request_window_closed")["deadline"] == "holder_reconsideration_request"
    assert props("decide_holder_reconsideration")["deadline"] == "holder_reconsideration_decision"
    assert props("decide_holder_reconsideration")["documents"] == "holder_reconsideration_decision"
    assert props("reply_to_holder")["documents"] == "holder_supervision_reply"
    assert props("record_late_request")["hook"] == "mark_late_request"
    assert props("decide_late_request")["hook"] == "decide_late_request"
    assert props("decide_late_request")["documents"] == \
        'holder_late_request_refusal if late_request_decision == "refuse"'
    assert props("serve_late_refusal")["hook"] == "serve_late_refusal"
    # Neither is bound by a period in law: the late request is the holder's, the refusal has none.
    assert "deadline" not in props("record_late_request") and "deadline" not in props("serve_late_refusal")
    [window] = root.iterfind(".//bpmn:boundaryEvent", NS)
    assert window.get("cancelActivity") == "true"


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={"case_id", "initiator_agency"})


@pytest.mark.parametrize(
    ("form", "data", "valid"),
    [
        ("holder_report_registration", REPORT, True),
        ("holder_report_registration", {**REPORT, "holder_id": "某公司"}, False),
        ("holder_report_decision", {"report_decision": "maybe", "reasons": "x"}, False),
        ("holder_notice_service", SERVED, True),
        ("holder_notice_service", {**SERVED, "method": "pigeon"}, False),
        ("holder_notice_service", {**SERVED, "served_by": ""}, False),
        ("holder_reconsideration_request", REQUESTED, True),
        ("holder_reconsideration_request", {"reconsideration_requested": True}, False),
        ("holder_reconsideration_request", {"reconsideration_requested": False}, True),
        ("holder_supervision_request", SUPERVISION, True),
        ("holder_supervision_request", {**SUPERVISION, "request_reasons": ""}, False),
        ("holder_supervision_examination", {"holder_request_decision": "supervise", "opinion": ""}, False),
        ("holder_late_request", LATE, True),
        ("holder_late_request", NO_LATE, True),
        ("holder_late_request", {**LATE, "delay_reasons": ""}, False),
        ("holder_late_request", {"late_request_received": True, "requested_on": "2026-03-20"}, False),
        ("holder_late_request_decision", {"late_request_decision": "refuse", "reasons": "逾期。"}, True),
        ("holder_late_request_decision", {"late_request_decision": "ignore", "reasons": "逾期。"}, False),
        ("holder_late_request_decision", {"late_request_decision": "accept", "reasons": ""}, False),
        ("holder_late_refusal_service", SERVED, True),
        ("holder_late_refusal_service", {**SERVED, "recipient": ""}, False),
    ],
)
def test_form_rules(form, data, valid):
    assert form_accepts(form, data) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "rights_holder_remedies", {
        "police_rights_holder_remedies", "procuratorate_rights_holder_remedies"})


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["police_pool", "procuratorate_pool"])
