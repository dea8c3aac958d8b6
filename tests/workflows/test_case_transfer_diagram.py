"""立案协助 (case_transfer.bpmn) driven by SpiffWorkflow alone: every path, serialized at every step.

No database and no engine/ code: a failure here is a diagram problem. The decision table has its own
tests (test_criminal_threshold_dmn.py); the procuratorate's filing supervision is another mechanism
(filing_supervision.bpmn) that this diagram reaches by the messages `filing_supervision_requested`
and `filing_supervision_concluded`.
"""
from __future__ import annotations

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

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

BPMN_FILE = WORKFLOWS / "case_transfer.bpmn"
DMN_FILE = WORKFLOWS / "criminal_threshold.dmn"
CASE_ID = 7
DUE_AT = "2026-03-05T15:59:59+00:00"
POOLS = ["office_pool", "samr_pool", "police_pool", "police_reconsideration_pool", "police_handover_pool",
         "samr_return_pool"]
PROCESSES = {"office_supervision": "office", "samr_transfer": "samr", "police_transfer": "police",
             "police_reconsideration": "police", "police_handover": "police", "samr_materials_return": "samr"}

# What each agency writes; nothing on one list may ever appear in the other agency's task data.
SAMR_KEYS = {
    "party_name", "suspected_offence", "summary", "loss_amount", "illegal_gain", "bankruptcy_caused",
    "other_major_loss", "police_measures_needed", "threshold", "especially_serious", "transfer_approved",
    "reasons", "handoff_approved", "comment", "acknowledged", "note", "handoff_returns",
    "request_reconsideration", "reconsideration_grounds", "request_supervision", "samr_request_reasons",
    "supplied_materials", "handover_items", "administrative_measures",
}
POLICE_KEYS = {
    "receipt_outcome", "missing_materials", "forwarded_to", "receipt_note", "recommendation", "opinion",
    "filing_decision", "filing_reasons", "supplement_rounds", "review_extensions", "review_period",
    "extension_reasons", "reconsideration_outcome", "reconsideration_reasons", "discrepancies_found",
    "discrepancies", "transfer", "reconsideration_request", "handover", "returned_items",
}
# The legal events each agency's pools record (workflows/deadlines.toml): dates only, and each side
# holds its own.
SAMR_EVENTS = {"transfer_report_submitted", "transfer_decided", "transfer_approved", "supplement_requested",
               "filing_decision_received", "reconsideration_decision_received", "filing_notice_received"}
POLICE_EVENTS = {"transfer_accepted", "reconsideration_request_received", "police_filing_decided"}
# Message variable -> the keys its payload may carry.
PAYLOADS = {
    "transfer": {"case_id", "threshold", "especially_serious"},
    "filing": {"decision", "reasons"}, "forwarding": {"forwarded_to"},
    "supplement_request": {"missing_materials", "round"}, "supplement": {"supplied_materials"},
    "reconsideration_request": {"grounds"}, "reconsideration": {"outcome", "reasons"},
    "handover": {"handover_items"}, "handover_check": {"discrepancies_found", "discrepancies"},
    "returned": {"returned_items"},
    "overdue": {"case_id", "task", "due_at"},
}
FACTS = {
    "party_name": "某科技有限公司", "suspected_offence": "侵犯商业秘密罪", "loss_amount": 500000,
    "illegal_gain": 120000.5, "bankruptcy_caused": False, "other_major_loss": False,
    "police_measures_needed": False, "summary": "前员工离职时拷贝核心工艺参数，并在竞争企业使用。",
    "signing_officers": ["samr_handler", "samr_handler2"],
}
RECEIPT = {"received": True, "receipt_outcome": "accepted", "missing_materials": "", "forwarded_to": ""}
INCOMPLETE = {**RECEIPT, "receipt_outcome": "incomplete", "missing_materials": "鉴定意见"}
RELEASE, RECEIVED = {"released": True}, {"received": True}
ACK = {"acknowledged": True, "request_reconsideration": False, "reconsideration_grounds": "",
       "request_supervision": False, "samr_request_reasons": ""}
RECONSIDER = {**ACK, "request_reconsideration": True, "reconsideration_grounds": "损失已达标准"}
HANDOVER = {"handover_items": "涉案U盘｜2｜封存完好\n配方打印件｜15｜完好"}


def side(task) -> str | None:
    """The agency whose data a task holds: its pool's process, or the pool's participant task."""
    names = (task.workflow.spec.name, task.task_spec.bpmn_id)
    return next((agency for process, agency in PROCESSES.items() if process in names), None)


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        other = {"samr": POLICE_KEYS, "police": SAMR_KEYS, "office": SAMR_KEYS | POLICE_KEYS}.get(side(task), set())
        assert not keys & other, (task.task_spec.bpmn_id, keys & other)
        own = {"samr": SAMR_EVENTS, "police": POLICE_EVENTS}.get(side(task))
        if own is not None:
            assert set(task.data.get("legal_events", {})) <= own, (task.task_spec.bpmn_id, task.data["legal_events"])
        for variable, allowed in PAYLOADS.items():
            if variable in keys and side(task) is not None:
                assert set(task.data[variable]) == allowed, (task.task_spec.bpmn_id, variable)


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    parser.add_dmn_file(str(DMN_FILE))
    return parser.get_collaboration("case_transfer")


def new_case(collaboration, copy_all: bool = False) -> Run:
    run = Run(collaboration, {"case_id": CASE_ID}, assert_agencies_separated)
    run.copy_all = copy_all
    return run


def data_of(run: Run, bpmn_id: str) -> dict:
    """The data of the one ready task `bpmn_id`."""
    [data] = run.ready_data(bpmn_id)
    return data


def do(run: Run, bpmn_id: str, data: dict) -> None:
    run.complete(bpmn_id, data, copy_all_form_data=run.copy_all)


def transferred(run: Run, returns: int = 0) -> None:
    do(run, "register_facts", FACTS)
    for _ in range(returns):
        do(run, "decide_transfer", {"transfer_approved": True, "administrative_penalty": False})
        do(run, "approve_outgoing_handoff", {"handoff_approved": False, "comment": "缺涉案物品清单"})
    do(run, "decide_transfer", {"transfer_approved": True, "administrative_penalty": False})
    do(run, "approve_outgoing_handoff", {"handoff_approved": True})
    assert run.ready() == [("accept_receipt", "police.liaison")]
    assert "await_police" in run.waiting()  # an event-based gateway: supplements, forwarding or a decision


UNDER_REVIEW = [("decide_filing", "police.head"), ("extend_review", "police.head"), ("review_case", "police.handler")]


def decided(run: Run, decision: str, reasons: str = "") -> None:
    do(run, "accept_receipt", RECEIPT)
    # The head's decision holds the police's period from acceptance; the handler's review reports to it.
    assert run.ready() == UNDER_REVIEW
    do(run, "review_case", {"recommendation": decision, "opinion": "经审查，提出意见。"})
    assert run.ready() == [("decide_filing", "police.head"), ("extend_review", "police.head")]
    do(run, "decide_filing", {"filing_decision": decision, "filing_reasons": reasons})
    do(run, "approve_filing_notice_handoff", RELEASE)
    if decision == "not_file":
        # The case files go back with the notice (Decree 310 art. 8); the review ends when they have.
        assert run.ready() == [("accept_filing_notice", "samr.liaison"), ("extend_review", "police.head"),
                               ("return_materials", "police.handler")]
        returned(run)
    # The head's optional extension ends with the police pool (terminate end event).
    assert run.ready() == [("accept_filing_notice", "samr.liaison")]
    end = "filing_notified" if decision == "file" else "materials_returned_end"
    assert run.completed({"filing_notified", "materials_returned_end"}) == {end}
    do(run, "accept_filing_notice", RECEIVED)
    # Filed: the handler goes straight to the handover, asked nothing about objections; not filed:
    # the handler takes note and says whether SAMR objects.
    after = "prepare_handover" if decision == "file" else "acknowledge_decision"
    assert run.ready() == [(after, "samr.handler")]
    assert data_of(run, after)["filing"] == {"decision": decision, "reasons": reasons}


RETURNED = {"returned_items": "移送案卷｜1｜完好\n涉案U盘｜2｜封存完好", "return_note": "随不予立案通知书退回"}


def returned(run: Run) -> None:
    """The police list and send back the files; SAMR's liaison takes them in and its handler counts them."""
    do(run, "return_materials", RETURNED)
    do(run, "approve_return_handoff", RELEASE)
    assert ("accept_returned_materials", "samr.liaison") in run.ready()
    assert data_of(run, "accept_returned_materials")["returned"] == {"returned_items": RETURNED["returned_items"]}
    do(run, "accept_returned_materials", RECEIVED)
    do(run, "check_returned_materials", {"return_discrepancies_found": False, "return_discrepancies": ""})


def handed_over(run: Run) -> None:
    assert run.ready() == [("prepare_handover", "samr.handler")]
    do(run, "prepare_handover", HANDOVER)
    do(run, "approve_handover_handoff", RELEASE)
    do(run, "accept_handover", RECEIVED)
    assert data_of(run, "confirm_handover")["handover"] == {"handover_items": HANDOVER["handover_items"]}
    do(run, "confirm_handover", {"discrepancies_found": True, "discrepancies": "打印件少1页"})
    do(run, "approve_handover_confirmation_handoff", RELEASE)
    assert data_of(run, "accept_handover_confirmation")["handover_check"] == {
        "discrepancies_found": True, "discrepancies": "打印件少1页"}
    do(run, "accept_handover_confirmation", RECEIVED)
    assert run.load().is_completed()


# --------------------------------------------------------------------------- paths


def test_head_refuses_transfer(collaboration):
    run = new_case(collaboration)
    do(run, "register_facts", FACTS)
    do(run, "decide_transfer", {"transfer_approved": False, "reasons": "证据尚不充分。", "administrative_penalty": False})
    assert run.load().is_completed() and run.completed({"transfer_refused"}) == {"transfer_refused"}
    assert not [t for t in run.load().get_tasks() if side(t) == "police"]


@pytest.mark.parametrize("returns", [1, 4])
def test_liaison_returns_to_head_then_approves(collaboration, returns):
    run = new_case(collaboration)
    transferred(run, returns)
    assert len([t for t in run.load().get_tasks() if t.task_spec.bpmn_id == "decide_transfer"]) == returns + 1


def test_the_return_loop_ends_after_five(collaboration):
    run = new_case(collaboration)
    do(run, "register_facts", FACTS)
    for _ in range(5):
        do(run, "decide_transfer", {"transfer_approved": True, "administrative_penalty": False})
        do(run, "approve_outgoing_handoff", {"handoff_approved": False, "comment": "退回"})
    assert run.load().is_completed() and run.completed({"handoff_abandoned"}) == {"handoff_abandoned"}


def test_filed_then_handover(collaboration):
    run = new_case(collaboration)
    transferred(run)
    decided(run, "file")
    # The decision received was to file: the handover runs from its receipt.
    events = data_of(run, "prepare_handover")["legal_events"]
    assert events["filing_notice_received"] == events["filing_decision_received"]
    handed_over(run)


def test_the_approval_is_the_heads_decision_on_the_approved_path(collaboration):
    run = new_case(collaboration)
    transferred(run, returns=1)
    assert "legal_events" not in data_of(run, "accept_receipt"), "SAMR's dates stay with SAMR"
    samr = run.data_at("approve_outgoing_handoff")["legal_events"]
    # The second decision, after the liaison's return, is the approval the 24 hours run from.
    assert samr["transfer_approved"] == samr["transfer_decided"] > samr["transfer_report_submitted"]


def test_a_refusal_records_no_approval(collaboration):
    run = new_case(collaboration)
    do(run, "register_facts", FACTS)
    do(run, "decide_transfer", {"transfer_approved": False, "reasons": "证据尚不充分。", "administrative_penalty": False})
    assert "transfer_approved" not in run.data_at("transfer_refused")["legal_events"]


def test_wrong_organ(collaboration):
    run = new_case(collaboration)
    transferred(run)
    do(run, "accept_receipt", {**RECEIPT, "receipt_outcome": "wrong_organ", "forwarded_to": "市公安局"})
    assert run.ready() == [("accept_forwarding_notice", "samr.liaison")]
    assert data_of(run, "accept_forwarding_notice")["forwarding"] == {"forwarded_to": "市公安局"}
    do(run, "accept_forwarding_notice", RECEIVED)
    assert run.load().is_completed()


@pytest.mark.parametrize("rounds", [1, 3, 5, 6])
def test_supplement_rounds_are_bounded(collaboration, rounds):
    run = new_case(collaboration)
    transferred(run)
    for n in range(1, rounds + 1):
        do(run, "accept_receipt", INCOMPLETE)
        if n > 5:  # no sixth request: the police must take the case
            break
        assert run.ready() == [("accept_supplement_request", "samr.liaison")]
        assert data_of(run, "accept_supplement_request")["supplement_request"] == {
            "missing_materials": "鉴定意见", "round": n}
        do(run, "accept_supplement_request", RECEIVED)
        do(run, "supply_supplement", {"supplied_materials": "鉴定意见书"})
        do(run, "approve_supplement_handoff", RELEASE)
        assert run.ready() == [("accept_receipt", "police.liaison")]
    if rounds <= 5:
        do(run, "accept_receipt", RECEIPT)
    assert run.ready() == UNDER_REVIEW


@pytest.mark.parametrize(("periods", "left_open"), [
    (["10d"], True), (["30d"], False), (["10d", "30d"], False),
    (["not_needed"], False), (["10d", "not_needed"], False)])
def test_review_extensions_are_bounded(collaboration, periods, left_open):
    run = new_case(collaboration)
    transferred(run)
    do(run, "accept_receipt", RECEIPT)
    for period in periods:
        do(run, "extend_review", {"review_period": period, "extension_reasons": "案情复杂"})
    assert (("extend_review", "police.head") in run.ready()) is left_open
    assert ("review_case", "police.handler") in run.ready()


def test_the_decision_timer_asks_for_filing_supervision(collaboration):
    run = new_case(collaboration)
    transferred(run)
    do(run, "accept_receipt", RECEIPT)
    run.fire_timer("decide_filing_overdue", DUE_AT)
    assert run.ready() == UNDER_REVIEW  # non-interrupting
    assert run.events() == [("filing_supervision_requested",
                             {"supervision_trigger": "review_overdue", "non_filing_reasons": ""})]


def test_the_files_go_back_before_the_police_review_ends(collaboration):
    run = new_case(collaboration)
    transferred(run)
    do(run, "accept_receipt", RECEIPT)
    do(run, "review_case", {"recommendation": "not_file", "opinion": "没有犯罪事实。"})
    do(run, "decide_filing", {"filing_decision": "not_file", "filing_reasons": "没有犯罪事实"})
    do(run, "approve_filing_notice_handoff", RELEASE)
    # SAMR can already act on the notice while the police prepare the return.
    do(run, "accept_filing_notice", RECEIVED)
    do(run, "return_materials", RETURNED)
    assert ("approve_return_handoff", "police.liaison") in run.ready()
    assert run.data_at("return_materials")["legal_events"]["police_filing_decided"]
    do(run, "approve_return_handoff", RELEASE)
    assert run.completed({"materials_returned_end"}) == {"materials_returned_end"}
    assert ("extend_review", "police.head") not in run.ready()
    do(run, "accept_returned_materials", RECEIVED)
    do(run, "check_returned_materials", {"return_discrepancies_found": True, "return_discrepancies": "U盘实收1个"})
    assert run.ready() == [("acknowledge_decision", "samr.handler")]


def test_not_filed_without_reconsideration_returns_to_samr(collaboration):
    run = new_case(collaboration)
    transferred(run)
    decided(run, "not_file", "没有犯罪事实")
    do(run, "acknowledge_decision", ACK)
    assert run.ready() == [("record_administrative_penalty", "samr.handler")]
    do(run, "record_administrative_penalty", {"administrative_measures": "依法立案调查"})
    assert run.load().is_completed()


def reconsidered(run: Run, outcome: str) -> None:
    transferred(run)
    decided(run, "not_file", "没有犯罪事实")
    do(run, "acknowledge_decision", RECONSIDER)
    do(run, "approve_reconsideration_handoff", RELEASE)
    assert run.ready() == [("accept_reconsideration_request", "police.liaison")]
    assert data_of(run, "accept_reconsideration_request")["reconsideration_request"] == {"grounds": "损失已达标准"}
    do(run, "accept_reconsideration_request", RECEIVED)
    do(run, "decide_reconsideration", {"reconsideration_outcome": outcome, "reconsideration_reasons": "复议理由"})
    do(run, "approve_reconsideration_decision_handoff", RELEASE)
    do(run, "accept_reconsideration_decision", RECEIVED)


def test_reconsideration_files_the_case(collaboration):
    run = new_case(collaboration)
    reconsidered(run, "filed")
    # The handover runs from the reconsideration decision that files the case.
    events = data_of(run, "prepare_handover")["legal_events"]
    assert events["filing_notice_received"] == events["reconsideration_decision_received"]
    assert events["filing_notice_received"] > events["filing_decision_received"]
    handed_over(run)


@pytest.mark.parametrize(("outcome", "next_task"), [
    ("reasons_hold", "record_administrative_penalty"), ("filed_on_notice", "prepare_handover"),
    ("not_filed_on_notice", "note_supervision_outcome")])
def test_samr_asks_for_filing_supervision(collaboration, outcome, next_task):
    run = new_case(collaboration, copy_all=True)  # only payloads cross, even if all data were copied
    reconsidered(run, "upheld")
    do(run, "consider_supervision", {"request_supervision": True, "samr_request_reasons": "理由不成立"})
    do(run, "approve_supervision_handoff", RELEASE)
    assert run.ready() == [] and run.waiting() == ["await_supervision"]
    assert run.events()[-1] == ("filing_supervision_requested", {
        "supervision_trigger": "samr_request", "non_filing_reasons": "复议理由", "samr_request_reasons": "理由不成立"})
    # What the engine does when filing_supervision answers (engine/worker/messages.py); a filing
    # brings the time SAMR received the police's notice of it.
    payload = {"supervision_outcome": outcome, "supervision_summary": "结论"}
    if outcome == "filed_on_notice":
        payload["legal_events"] = {"filing_notice_received": "2026-03-20T10:00:00+08:00"}
    workflow = run.load()
    workflow.send_event(BpmnEvent(MessageEventDefinition("filing_supervision_concluded"), payload))
    workflow.do_engine_steps()
    run._save(workflow)
    assert run.ready() == [(next_task, "samr.handler")]
    if outcome == "filed_on_notice":
        # The handover runs from that notice, not from the police's earlier refusal.
        assert data_of(run, "prepare_handover")["legal_events"]["filing_notice_received"] == "2026-03-20T10:00:00+08:00"


@pytest.mark.parametrize(("outcome", "next_task"), [
    ("reasons_hold", "record_administrative_penalty"), ("filed_on_notice", "prepare_handover")])
def test_samr_asks_for_filing_supervision_without_reconsideration(collaboration, outcome, next_task):
    """Decree 310 art. 9: SAMR may also go to the procuratorate directly; the police's reasons are
    those of the non-filing notice, and no reconsideration reaches the police."""
    run = new_case(collaboration, copy_all=True)
    transferred(run)
    decided(run, "not_file", "没有犯罪事实")
    do(run, "acknowledge_decision", {**ACK, "request_supervision": True, "samr_request_reasons": "损失已达标准"})
    assert run.ready() == [("approve_supervision_handoff", "samr.liaison")]
    do(run, "approve_supervision_handoff", RELEASE)
    assert run.waiting() == ["await_supervision"]
    assert run.events()[-1] == ("filing_supervision_requested", {
        "supervision_trigger": "samr_request", "non_filing_reasons": "没有犯罪事实",
        "samr_request_reasons": "损失已达标准"})
    assert not run.completed({"approve_reconsideration_handoff", "consider_supervision"})
    payload = {"supervision_outcome": outcome, "supervision_summary": "结论"}
    if outcome == "filed_on_notice":
        payload["legal_events"] = {"filing_notice_received": "2026-03-20T10:00:00+08:00"}
    workflow = run.load()
    workflow.send_event(BpmnEvent(MessageEventDefinition("filing_supervision_concluded"), payload))
    workflow.do_engine_steps()
    run._save(workflow)
    assert run.ready() == [(next_task, "samr.handler")]


def test_upheld_without_supervision_returns_to_samr(collaboration):
    run = new_case(collaboration)
    reconsidered(run, "upheld")
    do(run, "consider_supervision", {"request_supervision": False, "samr_request_reasons": ""})
    assert run.ready() == [("record_administrative_penalty", "samr.handler")]
    assert "filing_supervision_requested" not in [name for name, _p in run.events()]


def test_the_office_still_supervises_a_late_decision(collaboration):
    run = new_case(collaboration)
    do(run, "register_facts", FACTS)
    run.fire_timer("decide_transfer_overdue", DUE_AT)
    assert run.ready() == [("decide_transfer", "samr.head"), ("supervise_transfer_decision", "office.supervisor")]
    assert data_of(run, "supervise_transfer_decision")["overdue"] == {
        "case_id": CASE_ID, "task": "decide_transfer", "due_at": DUE_AT}


# --------------------------------------------------------------------------- conventions


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_passes_the_spiffworkflow_xsd():
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parser = SpiffBpmnParser(validator=validator)
        parser.add_bpmn_file(str(BPMN_FILE))
        parser.add_dmn_file(str(DMN_FILE))
        parser.get_collaboration("case_transfer")


def test_conventions(root):
    assert_conventions(root)
    collab = root.find("bpmn:collaboration", NS)
    assert properties(collab) == {"started_by": "transfer_requested"}
    # Every crossing goes through both liaisons: each message flow leaves after an outgoing liaison
    # step and is taken in by an incoming one (the receipt for a transfer and its supplements).
    handoffs = {t.get("id"): properties(t).get("handoff") for t in root.iterfind(".//bpmn:userTask", NS)}
    assert sorted(k for k, v in handoffs.items() if v == "incoming") == sorted([
        "accept_receipt", "accept_supplement_request", "accept_forwarding_notice", "accept_filing_notice",
        "accept_reconsideration_request", "accept_reconsideration_decision", "accept_handover",
        "accept_handover_confirmation", "accept_returned_materials"])
    assert sorted(k for k, v in handoffs.items() if v == "outgoing") == sorted([
        "approve_outgoing_handoff", "approve_supplement_handoff", "approve_filing_notice_handoff",
        "approve_reconsideration_handoff", "approve_reconsideration_decision_handoff",
        "approve_supervision_handoff", "approve_handover_handoff", "approve_handover_confirmation_handoff",
        "approve_return_handoff"])
    deadlines = {t.get("id"): properties(t).get("deadline") for t in root.iterfind(".//bpmn:userTask", NS)}
    assert {k: deadlines[k] for k in ("decide_transfer", "approve_outgoing_handoff", "review_case", "decide_filing",
                                      "acknowledge_decision", "decide_reconsideration", "consider_supervision",
                                      "prepare_handover", "supply_supplement", "accept_receipt")} == {
        "decide_transfer": "transfer_decision", "approve_outgoing_handoff": "transfer_send", "review_case": None,
        "decide_filing": "police_filing_decision", "acknowledge_decision": "reconsideration_request",
        "decide_reconsideration": "reconsideration_decision", "consider_supervision": "supervision_request",
        "prepare_handover": "handover_items", "supply_supplement": "supplement_supply",
        "accept_receipt": "liaison_handoff"}
    # Each period's trigger is recorded where it happens (the catalog check is in test_deadline_rules.py).
    recorded = {t.get("id"): properties(t)["records_event"] for t in root.iterfind(".//bpmn:userTask", NS)
                if "records_event" in properties(t)}
    assert recorded == {
        "register_facts": "transfer_report_submitted", "decide_transfer": "transfer_decided",
        "accept_receipt": "transfer_accepted", "accept_supplement_request": "supplement_requested",
        "accept_filing_notice": "filing_decision_received",
        "accept_reconsideration_request": "reconsideration_request_received",
        "accept_reconsideration_decision": "reconsideration_decision_received",
        "decide_filing": "police_filing_decided"}
    assert properties(root.find(".//bpmn:userTask[@id='extend_review']", NS))["hook"] == "extend_review"
    assert properties(root.find(".//bpmn:userTask[@id='decide_filing']", NS))["hook"] == "decide_filing"
    [timer] = root.findall(".//bpmn:boundaryEvent[@attachedToRef='decide_filing']", NS)
    assert properties(timer)["deadline"] == "police_filing_decision" and timer.get("cancelActivity") == "false"
    assert not root.findall(".//bpmn:boundaryEvent[@attachedToRef='review_case']", NS)
    # No procuratorate pool any more: filing supervision is its own mechanism.
    assert not [lane for lane in root.iterfind(".//bpmn:lane", NS) if lane.get("name").startswith("procuratorate")]


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={
        "case_id", "timer_due_at", "threshold", "especially_serious", "threshold_rule",  # engine; the DMN's outputs
        "handoff_returns", "supplement_rounds", "review_extensions",  # scripts
        "filing", "reconsideration", "supervision",  # message variables
        "legal_events",  # the engine, when a step records its legal event
    })


@pytest.mark.parametrize(("form", "data", "valid"), [
    ("receipt", {**RECEIPT, "receipt_outcome": "incomplete"}, False),
    ("receipt", INCOMPLETE, True),
    ("receipt", {**RECEIPT, "receipt_outcome": "wrong_organ"}, False),
    ("receipt", {**RECEIPT, "received": False}, False),
    ("acknowledge_decision", {**RECONSIDER, "reconsideration_grounds": ""}, False),
    ("acknowledge_decision", ACK, True),
    ("acknowledge_decision", {**ACK, "request_supervision": True}, False),
    ("acknowledge_decision", {**ACK, "request_supervision": True, "samr_request_reasons": "理由"}, True),
    ("acknowledge_decision", {**RECONSIDER, "request_supervision": True, "samr_request_reasons": "理由"}, False),
    # Asked only after a 不予立案: whether to object is required; the direct supervision question
    # only once reconsideration is declined.
    ("acknowledge_decision", {"acknowledged": True}, False),
    ("acknowledge_decision", {"acknowledged": True, "request_reconsideration": False}, False),
    ("acknowledge_decision", {"acknowledged": True, "request_reconsideration": False, "request_supervision": False}, True),
    ("acknowledge_decision", {"acknowledged": True, "request_reconsideration": True, "reconsideration_grounds": "理由"}, True),
    ("review_extension", {"review_period": "20d", "extension_reasons": "x"}, False),
    ("review_extension", {"review_period": "30d", "extension_reasons": ""}, False),
    ("review_extension", {"review_period": "not_needed", "extension_reasons": ""}, True),
    ("supervision_request", {"request_supervision": True, "samr_request_reasons": ""}, False),
    ("handover_list", HANDOVER, True),
    ("handover_list", {"handover_items": "涉案U盘，两个"}, False),
    ("handover_confirmation", {"discrepancies_found": True, "discrepancies": ""}, False),
    ("returned_materials", RETURNED, True),
    ("returned_materials", {"returned_items": "移送案卷"}, False),
    ("returned_materials_check", {"return_discrepancies_found": True, "return_discrepancies": ""}, False),
    ("reconsideration_decision", {"reconsideration_outcome": "upheld", "reconsideration_reasons": ""}, False),
    ("transfer_decision", {"transfer_approved": False, "reasons": ""}, False),
    ("filing_decision", {"filing_decision": "not_file", "filing_reasons": ""}, False),
])
def test_form_rules(form, data, valid):
    errors = list(jsonschema.Draft202012Validator(load_form(form)).iter_errors(data))
    assert (not errors) is valid, errors


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "case_transfer", set(PROCESSES))


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, POOLS)
