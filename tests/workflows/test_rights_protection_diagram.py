"""维权联动 (rights_protection.bpmn) driven by SpiffWorkflow alone: every path, serialized at every step.

The filing period is counted by the engine (engine/time/task_due.py) from three task properties and the
complaint's receipt; here we check what the diagram does with the period variables: 15 working days to
start with, 30 after an extension, untouched by the appraisal path, the loops bounded, and the legal
events the periods run from recorded where they happen.
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

BPMN_FILE = WORKFLOWS / "rights_protection.bpmn"
CASE_ID = 7
DUE_AT = "2026-03-20T15:59:59+00:00"

SAMR_KEYS = {"complainant", "complainant_contact", "received_on", "suspected_infringer", "secret_described",
             "evidence_offered", "verification_outcome", "opinion", "appraisal_kind", "institution",
             "conclusion", "extension_granted", "reasons", "filing_decided", "channels", "notified_person",
             "filing_period", "filing_days_used", "appraisal_rounds", "extension_decided", "parties",
             "holder_contact", "preservation_expected", "court_reply", "outcome", "summary"}
COURT_KEYS = {"referral", "received", "preservation_applied", "preservation_applied_at", "preservation_granted",
              "ruling_number", "ruling_reasons"}
# The legal events each side records: dates only, each side its own.
SAMR_EVENTS = {"complaint_received", "complaint_filing_decided", "case_filed"}
COURT_EVENTS = {"preservation_applied"}
OFFICE_KEYS = {"overdue", "note"}
ENDS = {"report_verify_overdue", "report_decision_overdue", "complainant_notified", "not_filed",
        "administrative_done", "request_transfer", "civil_done", "answer_referral", "filing_supervised"}

COMPLAINT = {
    "complainant": "某精密机械有限公司", "complainant_contact": "法务部 张经理 0635-1234567",
    "received_on": "2026-03-02", "suspected_infringer": "某新材料有限公司",
    "secret_described": "数控机床主轴热处理工艺参数表（共37项参数）。",
    "evidence_offered": "保密协议、离职员工邮件截图、对方产品检测报告。",
}
VERIFY = lambda outcome: {"verification_outcome": outcome, "opinion": "经核查，提出意见。"}  # noqa: E731
APPRAISAL = {"appraisal_kind": "appraisal", "institution": "某司法鉴定所", "commissioned_on": "2026-03-05",
             "completed_on": "2026-04-10", "conclusion": "涉案参数不为公众所知悉。"}
FILE_ALL = {"filing_decided": "file", "channels": ["administrative", "criminal", "civil"]}
NOT_FILE = {"filing_decided": "not_file", "channels": [], "reasons": "不属于本局管辖。"}
NOTIFIED = {"notified_person": "张经理", "channel": "written", "notified_on": "2026-03-12"}
REFERRAL = {"parties": "某精密机械有限公司；某新材料有限公司", "holder_contact": "0635-1234567",
            "preservation_expected": True}


def side(task) -> str | None:
    for process, agency in (("samr_rights_protection", "samr"), ("court_rights_protection", "court"),
                            ("office_rights_protection", "office")):
        if process in (task.workflow.spec.name, task.task_spec.bpmn_id):
            return agency
    return None


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        own = {"samr": SAMR_EVENTS, "court": COURT_EVENTS, "office": set()}.get(side(task))
        if own is not None:
            assert set(task.data.get("legal_events", {})) <= own, (task.task_spec.bpmn_id, task.data["legal_events"])
        if side(task) == "samr":
            assert not keys & COURT_KEYS - {"preservation_applied", "preservation_granted"}, keys & COURT_KEYS
            if "court_reply" in keys:
                assert set(task.data["court_reply"]) == {"case_id", "preservation_applied", "preservation_granted"}
        elif side(task) == "court":
            assert not keys & SAMR_KEYS, (task.task_spec.bpmn_id, keys & SAMR_KEYS)
            if "referral" in keys:
                assert task.data["referral"] == {"case_id": CASE_ID}
        elif side(task) == "office":
            assert keys - {"case_id", "initiator_agency"} <= OFFICE_KEYS, (task.task_spec.bpmn_id, keys)
            if "overdue" in keys:
                assert set(task.data["overdue"]) == {"case_id", "task", "due_at"}


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_collaboration("rights_protection")


def start(collaboration) -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "samr"}, assert_agencies_separated)


def registered(collaboration, copy_all=False) -> Run:
    run = start(collaboration)
    assert run.ready() == [("register_complaint", "samr.handler")]
    # No days used yet: the first task that counts the period counts it from the complaint's receipt.
    assert run.ready_data("register_complaint")[0]["filing_period"] == "15wd"
    assert "filing_days_used" not in run.ready_data("register_complaint")[0]
    run.complete("register_complaint", COMPLAINT, copy_all_form_data=copy_all)
    assert run.ready() == [("verify_complaint", "samr.handler")]
    assert run.ready_data("verify_complaint")[0]["legal_events"] == {"complaint_received": "2026-03-02"}
    return run


# --------------------------------------------------------------------------- paths


def test_filed_on_every_channel(collaboration):
    run = registered(collaboration)
    run.complete("verify_complaint", VERIFY("file"))
    assert run.ready() == [("decide_filing", "samr.head")]
    run.complete("decide_filing", FILE_ALL)
    assert run.ready() == [("investigate", "samr.handler"), ("notify_complainant", "samr.handler"),
                           ("refer_civil", "samr.liaison")]
    assert run.events() == [("transfer_requested", {"case_id": CASE_ID, "requested_by": "rights_protection"})]
    run.complete("notify_complainant", NOTIFIED)
    run.complete("investigate", {"outcome": "penalty", "fine_yuan": 300000, "summary": "罚款30万元。"})
    run.complete("refer_civil", REFERRAL)
    assert run.ready() == [("accept_civil_referral", "court.liaison")]
    assert run.data_at("receive_civil_referral")["referral"] == {"case_id": CASE_ID}
    run.complete("accept_civil_referral", {"received": True, "preservation_applied": True,
                                           "preservation_applied_at": "2026-03-13 16:20"})
    assert run.ready() == [("decide_preservation", "court.handler")]
    # The 48 hours run from the holder's application, as the court liaison entered it.
    assert run.ready_data("decide_preservation")[0]["legal_events"] == {"preservation_applied": "2026-03-13 16:20"}
    run.complete("decide_preservation", {"preservation_granted": True, "ruling_reasons": "情况紧急。"})
    assert run.ready() == [("record_court_reply", "samr.liaison")]
    assert run.data_at("record_court_reply")["court_reply"] == {
        "case_id": CASE_ID, "preservation_applied": True, "preservation_granted": True}
    run.complete("record_court_reply", {"acknowledged": True})
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"complainant_notified", "administrative_done", "request_transfer",
                                   "civil_done", "answer_referral"}


@pytest.mark.parametrize("channel", ["administrative", "criminal", "civil"])
def test_one_channel_opens_only_its_path(collaboration, channel):
    run = registered(collaboration)
    run.complete("verify_complaint", VERIFY("file"))
    run.complete("decide_filing", {"filing_decided": "file", "channels": [channel]})
    if channel == "administrative":
        # The investigation's 90 days run from the filing: the head's decision, on the filed path.
        events = run.ready_data("investigate")[0]["legal_events"]
        assert events["case_filed"] == events["complaint_filing_decided"]
    opened = {"administrative": ("investigate", "samr.handler"), "civil": ("refer_civil", "samr.liaison")}
    expected = sorted([("notify_complainant", "samr.handler")] + ([opened[channel]] if channel in opened else []))
    assert run.ready() == expected
    assert bool(run.events()) is (channel == "criminal")


def test_not_filed_only_notifies_the_complainant(collaboration):
    run = registered(collaboration)
    run.complete("verify_complaint", VERIFY("not_file"))
    run.complete("decide_filing", NOT_FILE)
    assert run.ready() == [("notify_complainant", "samr.handler")]
    assert set(run.ready_data("notify_complainant")[0]["legal_events"]) == {
        "complaint_received", "complaint_filing_decided"}, "not filed: no case_filed"
    run.complete("notify_complainant", NOTIFIED)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"complainant_notified", "not_filed"}
    assert run.events() == []


def test_no_preservation_application_is_reported_as_such(collaboration):
    run = registered(collaboration)
    run.complete("verify_complaint", VERIFY("file"))
    run.complete("decide_filing", {"filing_decided": "file", "channels": ["civil"]})
    run.complete("refer_civil", {**REFERRAL, "preservation_expected": False})
    run.complete("accept_civil_referral", {"received": True, "preservation_applied": False})
    assert run.ready() == [("notify_complainant", "samr.handler"), ("record_court_reply", "samr.liaison")]
    assert run.data_at("record_court_reply")["court_reply"] == {
        "case_id": CASE_ID, "preservation_applied": False, "preservation_granted": None}


def test_appraisal_leaves_the_period_to_the_engine_and_is_bounded(collaboration):
    run = registered(collaboration)
    for round_ in range(1, 4):
        run.complete("verify_complaint", VERIFY("appraisal"))
        assert run.ready() == [("await_appraisal", "samr.handler")]
        # The appraisal task counts no period: the filing clock stands still.
        assert "deadline_used" not in load_props("await_appraisal")
        run.complete("await_appraisal", APPRAISAL)
        assert run.ready() == [("verify_complaint", "samr.handler")]
        assert run.ready_data("verify_complaint")[0]["appraisal_rounds"] == round_
    # A fourth appraisal request is not honoured: the head decides.
    run.complete("verify_complaint", VERIFY("appraisal"))
    assert run.ready() == [("decide_filing", "samr.head")]


@pytest.mark.parametrize(("granted", "period"), [(True, "30wd"), (False, "15wd")])
def test_extension_is_decided_once_and_rearms_the_period(collaboration, granted, period):
    run = registered(collaboration)
    run.complete("verify_complaint", VERIFY("extension"))
    assert run.ready() == [("decide_extension", "samr.head")]
    run.complete("decide_extension", {"extension_granted": granted, "reasons": "案情复杂。"})
    assert run.ready() == [("verify_complaint", "samr.handler")]
    assert run.ready_data("verify_complaint")[0]["filing_period"] == period
    run.complete("verify_complaint", VERIFY("extension"))
    assert run.ready() == [("decide_filing", "samr.head")], "a second extension goes to the head's decision"


def test_days_used_travel_with_the_period(collaboration):
    """The engine adds the days a task was open; the diagram only carries them along."""
    run = registered(collaboration)
    run.set_data("verify_complaint", filing_days_used=4)
    run.complete("verify_complaint", VERIFY("appraisal"))
    run.complete("await_appraisal", APPRAISAL)
    assert run.ready_data("verify_complaint")[0]["filing_days_used"] == 4


@pytest.mark.parametrize(("timer", "task", "lane"), [
    ("verify_overdue", "verify_complaint", "samr.handler"), ("decide_overdue", "decide_filing", "samr.head")])
def test_a_missed_filing_period_is_reported_to_the_office(collaboration, timer, task, lane):
    run = registered(collaboration)
    if task == "decide_filing":
        run.complete("verify_complaint", VERIFY("file"))
    run.fire_timer(timer, DUE_AT)
    assert run.ready() == sorted([(task, lane), ("supervise_filing", "office.supervisor")])
    assert run.data_at("supervise_filing")["overdue"] == {"case_id": CASE_ID, "task": task, "due_at": DUE_AT}
    run.complete("supervise_filing", {"note": "已电话督促。"})
    assert run.ready() == [(task, lane)], "non-interrupting: the step stays open"


def test_only_payloads_cross_even_if_all_form_data_were_copied(collaboration):
    run = registered(collaboration, copy_all=True)
    assert "secret_described" in run.data_at("verify_complaint")
    run.fire_timer("verify_overdue", DUE_AT)
    run.complete("verify_complaint", VERIFY("file"), copy_all_form_data=True)
    run.complete("decide_filing", {**FILE_ALL, "reasons": "证据充分"}, copy_all_form_data=True)
    run.complete("refer_civil", REFERRAL, copy_all_form_data=True)
    run.complete("accept_civil_referral", {"received": True, "preservation_applied": True, "note": "已收",
                                           "preservation_applied_at": "2026-03-13 16:20"}, copy_all_form_data=True)
    run.complete("decide_preservation", {"preservation_granted": False, "ruling_reasons": "不符合条件"},
                 copy_all_form_data=True)  # every step checks all three sides


# --------------------------------------------------------------------------- conventions


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def load_props(task_id: str) -> dict:
    [task] = etree.parse(str(BPMN_FILE)).getroot().iterfind(f".//*[@id='{task_id}']", NS)
    return properties(task)


def test_passes_the_spiffworkflow_xsd():
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parser = SpiffBpmnParser(validator=validator)
        parser.add_bpmn_file(str(BPMN_FILE))
        parser.get_collaboration("rights_protection")


def test_conventions_deadlines_and_the_filing_clock(root):
    assert_conventions(root)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert properties(collab) == {"startable_by": "samr.handler"}
    clock = {"deadline": "complaint_filing_decision", "deadline_from": "filing_period",
             "deadline_used": "filing_days_used"}
    # Registering records the complaint's receipt, which the period runs from: it counts nothing.
    counted = {"verify_complaint", "decide_extension", "decide_filing", "verify_overdue", "decide_overdue"}
    for element in root.iterfind(".//bpmn:userTask", NS):
        props = properties(element)
        if element.get("id") in counted:
            assert {k: props[k] for k in clock} == clock, element.get("id")
        else:
            assert "deadline_used" not in props, element.get("id")
    for timer in root.iterfind(".//bpmn:boundaryEvent", NS):
        assert timer.get("id") in counted and properties(timer) == clock
        assert timer.get("cancelActivity") == "false"
    assert "deadline" not in load_props("register_complaint")
    assert load_props("notify_complainant")["deadline"] == "complaint_result_notice"
    assert load_props("decide_preservation")["deadline"] == "preservation_decision"
    assert load_props("investigate")["deadline"] == "administrative_investigation"
    assert load_props("decide_filing")["records_event"] == "complaint_filing_decided"
    assert load_form("complaint_registration")["properties"]["received_on"]["x-legal-event"] == "complaint_received"
    assert load_form("civil_referral_receipt")["properties"]["preservation_applied_at"]["x-legal-event"] == \
        "preservation_applied"
    assert load_props("refer_civil")["handoff"] == "outgoing"
    assert load_props("accept_civil_referral")["handoff"] == "incoming"


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    # Set by scripts: the period, its days used (and by the engine), counters; supplied: case_id,
    # timer_due_at after a timer. The secret described in the complaint is never a variable.
    assert_forms_mark_exactly_what_is_read(root, supplied={
        "case_id", "timer_due_at", "filing_period", "filing_days_used", "appraisal_rounds", "extension_decided",
        "legal_events"})
    assert not any(p.get("x-variable") for p in load_form("complaint_registration")["properties"].values())


@pytest.mark.parametrize(
    ("form", "data", "valid"),
    [
        ("complaint_filing_decision", FILE_ALL, True),
        ("complaint_filing_decision", {"filing_decided": "file", "channels": []}, False),
        ("complaint_filing_decision", {"filing_decided": "not_file", "channels": ["civil"], "reasons": "x"}, False),
        ("complaint_filing_decision", {"filing_decided": "not_file", "channels": []}, False),
        ("complaint_filing_decision", NOT_FILE, True),
        ("complaint_verification", VERIFY("later"), False),
        ("complainant_notification", {**NOTIFIED, "channel": "pigeon"}, False),
        ("complainant_notification", {**NOTIFIED, "notified_on": "下周"}, False),
        ("filing_extension", {"extension_granted": True}, False),
        ("preservation_decision", {"preservation_granted": True, "ruling_reasons": "紧急"}, True),
        ("civil_referral_receipt", {"received": True, "preservation_applied": True}, False),
        ("civil_referral_receipt", {"received": True, "preservation_applied": True,
                                    "preservation_applied_at": "昨天下午"}, False),
        ("civil_referral_receipt", {"received": True, "preservation_applied": True,
                                    "preservation_applied_at": "2026-10-09 25:00"}, False),
        ("civil_referral_receipt", {"received": True, "preservation_applied": True,
                                    "preservation_applied_at": "2026-10-09 15:30"}, True),
        ("civil_referral_receipt", {"received": True, "preservation_applied": True,
                                    "preservation_applied_at": "2026-10-09T15:30:00+08:00"}, True),
        ("civil_referral_receipt", {"received": True, "preservation_applied": False}, True),
        ("complaint_registration", {**COMPLAINT, "secret_described": ""}, False),
    ],
)
def test_form_rules(form, data, valid):
    validator = jsonschema.Draft202012Validator(load_form(form), format_checker=jsonschema.FormatChecker())
    assert (not list(validator.iter_errors(data))) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "rights_protection", {
        "samr_rights_protection", "court_rights_protection", "office_rights_protection"})
    assert len(root.findall(".//bpmn:messageFlow", NS)) == 4


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["samr_pool", "court_pool", "office_pool"])
