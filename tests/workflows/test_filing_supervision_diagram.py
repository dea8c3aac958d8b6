"""立案监督 (filing_supervision.bpmn) driven by SpiffWorkflow alone: every path, serialized at every step.

The mechanism starts from 立案协助's `filing_supervision_requested` message (the engine puts the
payload in a variable of that name) or from a prosecutor on the case (no such variable). Only
when SAMR asked for the supervision is the transfer told (`filing_supervision_concluded`), and only
from SAMR's own pool once its liaison has signed for the notice: the procuratorate's conclusion
(then acknowledged by the handler) or the police's 立案通知书.
"""
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

BPMN_FILE = WORKFLOWS / "filing_supervision.bpmn"
CASE_ID = 42
DUE_AT = "2026-03-31T15:59:59+00:00"
SAMR_REQUEST = {"supervision_trigger": "samr_request", "non_filing_reasons": "没有犯罪事实",
                "samr_request_reasons": "损失数额已达追诉标准"}
REVIEW_OVERDUE = {"supervision_trigger": "review_overdue", "non_filing_reasons": ""}

# What the procuratorate decides stays in its pool; the others get ids and the notice only.
PROCURATORATE_KEYS = {"request", "supervision_trigger", "non_filing_reasons", "samr_request_reasons",
                      "supervision_decision", "reasons_hold", "supervision_outcome", "supervision_summary",
                      "explanation_received", "filing_report", "filing_overdue", "explanation_overdue_report"}
POLICE_KEYS = {"explain_request", "assessment_notice", "filing_order", "timer_due_at", "filing_number"}
SAMR_KEYS = {"supervision_notice"}
# The legal events each side records (dates only, each side its own).
OWN_EVENTS = {"procuratorate": {"supervision_examined", "reasons_found_valid"},
              "police": {"explain_request_received", "filing_order_received"}, "samr": {"filing_notice_received"}}
ENDS = {"supervision_closed", "supervision_ended", "conclude_transfer", "police_informed", "police_filed",
        "filing_notice_to_samr", "report_filing_missed", "samr_informed", "samr_told", "conclude_filed"}

EXAMINE = {"supervision_decision": "request_explanation", "examination_opinion": "移送材料显示损失已达标准。",
           "questions": "请说明认定没有犯罪事实的依据。"}
CLOSE = {"supervision_decision": "close", "examination_opinion": "不予立案理由充分，无监督必要。"}
RELEASE = {"released": True}
RECEIVED = {"received": True}
EXPLAIN = {"explanation": "现有证据不能证明损失数额。", "legal_basis": "刑事诉讼法第一百一十二条"}
HOLD = {"reasons_hold": True, "assessment": "理由成立。"}
FAIL = {"reasons_hold": False, "assessment": "鉴定意见已证明损失50万元，理由不成立。"}
ORDER = {"order_reasons": "损失数额已达追诉标准。"}
NOTICE = {"supervision_summary": "公安机关不立案理由成立。"}
# The 立案决定书 is numbered by the system on completion; a number is entered only for a decision
# made outside it.
FILED = {"filed_on": "2026-03-20"}
OUTCOME = {"supervision_summary": "公安机关已于3月20日立案。"}
ESCALATE = {"correction_opinion": "收到通知立案书后超过15日仍未立案，违反刑事诉讼法第一百一十三条，应当立即立案。",
            "reported_to_superior": True,
            "supervision_summary": "逾期未立案，已发纠正违法通知书并报告上级检察院。"}


def side(task) -> str | None:
    for name in (task.workflow.spec.name, task.task_spec.bpmn_id):
        if name in ("procuratorate_filing_supervision", "police_filing_supervision", "samr_filing_supervision"):
            return name.split("_")[0]
    return None


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side(task) is not None:
            assert set(task.data.get("legal_events", {})) <= OWN_EVENTS[side(task)], task.task_spec.bpmn_id
        if side(task) in ("police", "samr"):
            assert not keys & PROCURATORATE_KEYS, (task.task_spec.bpmn_id, keys & PROCURATORATE_KEYS)
        if side(task) == "police":
            assert not keys & SAMR_KEYS, task.task_spec.bpmn_id
        if side(task) == "samr":
            assert not keys & POLICE_KEYS, task.task_spec.bpmn_id
            if "supervision_notice" in keys:
                assert set(task.data["supervision_notice"]) == {
                    "case_id", "supervision_outcome", "supervision_summary", "supervision_trigger"}
        if side(task) == "procuratorate":
            assert not keys & (POLICE_KEYS - {"timer_due_at"}) and not keys & SAMR_KEYS, task.task_spec.bpmn_id
            for received in ("explanation_received", "filing_report", "filing_overdue", "explanation_overdue_report"):
                if received in keys:
                    assert set(task.data[received]) <= {"case_id", "filed", "task", "due_at"}


@pytest.fixture(scope="module")
def collaboration():
    return parse_collaboration(BPMN_FILE, "filing_supervision")


def start(collaboration, request: dict | None) -> Run:
    data = {"case_id": CASE_ID}
    if request is None:
        data["initiator_agency"] = "procuratorate"
    else:
        data["filing_supervision_requested"] = request
    return Run(collaboration, data, assert_agencies_separated)


def explain(run: Run) -> None:
    run.complete("examine_supervision", EXAMINE)
    assert run.ready() == [("send_explain_request", "procuratorate.liaison")]
    run.complete("send_explain_request", RELEASE)
    assert run.ready() == [("accept_explain_request", "police.liaison")]
    assert run.data_at("receive_explain_request")["explain_request"] == {"case_id": CASE_ID}
    run.complete("accept_explain_request", RECEIVED)
    assert run.ready() == [("explain_non_filing", "police.handler")]
    run.complete("explain_non_filing", EXPLAIN)
    run.complete("send_explanation", RELEASE)
    assert run.ready() == [("receive_explanation", "procuratorate.liaison")]
    assert "await_assessment" in run.waiting()
    run.complete("receive_explanation", RECEIVED)
    assert run.ready() == [("assess_explanation", "procuratorate.handler")]


def samr_takes_note(run: Run) -> None:
    """SAMR's liaison signs for the notice and its handler takes note; nothing is answered before."""
    run.complete("accept_supervision_notice", RECEIVED)
    assert run.ready() == [("acknowledge_supervision_notice", "samr.handler")] and run.events() == []
    run.complete("acknowledge_supervision_notice", {"acknowledged": True})
    assert run.load().is_completed()


def order_filing(run: Run) -> None:
    explain(run)
    run.complete("assess_explanation", FAIL)
    assert run.ready() == [("issue_filing_order", "procuratorate.head")]
    run.complete("issue_filing_order", ORDER)
    run.complete("send_filing_order", RELEASE)
    assert run.ready() == [("accept_filing_order", "police.liaison")]
    run.complete("accept_filing_order", RECEIVED)
    assert run.ready() == [("file_on_notice", "police.head")]
    assert run.waiting() == ["await_filing", "filing_overdue"]


# --------------------------------------------------------------------------- paths


def test_a_prosecutor_closes_a_clue_of_their_own_quietly(collaboration):
    run = start(collaboration, None)
    assert run.ready() == [("examine_supervision", "procuratorate.handler")]
    assert run.data_at("read_request")["supervision_trigger"] == "prosecutor"
    run.complete("examine_supervision", CLOSE)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"supervision_closed"}
    assert run.events() == []


def test_closing_a_samr_request_still_answers_samr_and_the_transfer(collaboration):
    run = start(collaboration, SAMR_REQUEST)
    assert run.data_at("read_request")["samr_request_reasons"] == "损失数额已达追诉标准"
    run.complete("examine_supervision", CLOSE)
    assert run.ready() == [("notify_samr", "procuratorate.handler")]
    events = run.ready_data("notify_samr")[0]["legal_events"]
    assert events["reasons_found_valid"] == events["supervision_examined"], "the examination is the finding"
    run.complete("notify_samr", NOTICE)
    run.complete("send_supervision_notice", RELEASE)
    assert run.ready() == [("accept_supervision_notice", "samr.liaison")]
    assert run.data_at("receive_supervision_notice")["supervision_notice"] == {
        "case_id": CASE_ID, "supervision_outcome": "reasons_hold", "supervision_summary": NOTICE["supervision_summary"],
        "supervision_trigger": "samr_request"}
    assert run.completed(ENDS) == {"supervision_ended"} and run.events() == [], "SAMR has not signed yet"
    samr_takes_note(run)
    assert run.completed(ENDS) == {"supervision_ended", "conclude_transfer"}, "the police were never asked"
    assert run.events() == [("filing_supervision_concluded", {
        "supervision_outcome": "reasons_hold", "supervision_summary": NOTICE["supervision_summary"]})]


def test_reasons_hold_on_an_overdue_review_tell_samr_and_the_police_only(collaboration):
    run = start(collaboration, REVIEW_OVERDUE)
    explain(run)
    run.complete("assess_explanation", HOLD)
    assert run.ready() == [("notify_samr", "procuratorate.handler")]
    # The 10 days run from the finding on the police's reasons, the prosecutor's last conclusion.
    events = run.ready_data("notify_samr")[0]["legal_events"]
    assert events["reasons_found_valid"] == events["supervision_examined"] == run.data_at(
        "assess_explanation")["legal_events"]["supervision_examined"]
    run.complete("notify_samr", NOTICE)
    run.complete("send_supervision_notice", RELEASE)
    assert run.ready() == [("accept_assessment", "police.liaison"), ("accept_supervision_notice", "samr.liaison")]
    run.complete("accept_assessment", RECEIVED)
    run.complete("accept_supervision_notice", RECEIVED)
    run.complete("acknowledge_supervision_notice", {"acknowledged": True})
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"supervision_ended", "police_informed", "samr_informed"}
    assert run.events() == [], "only a SAMR request is answered to the transfer"


FILED_SUMMARY = "公安机关接到通知立案书后已立案，立案决定书文号见立案通知书。"


def test_police_file_on_notice_and_the_transfer_hears_it_from_samr(collaboration):
    run = start(collaboration, SAMR_REQUEST)
    order_filing(run)
    assert run.data_at("filing_ordered")["filing_order"] == {"case_id": CASE_ID, "supervision_trigger": "samr_request"}
    run.complete("file_on_notice", FILED)
    assert run.ready() == [("send_filing_report", "police.liaison")]
    run.complete("send_filing_report", RELEASE)
    # The 立案决定书 to the procuratorate, the 立案通知书 to SAMR: each through both liaisons.
    assert run.ready() == [("receive_filing_report", "procuratorate.liaison"), ("send_filing_notice", "police.liaison")]
    assert run.waiting() == []
    run.complete("receive_filing_report", RECEIVED)
    run.complete("record_outcome", OUTCOME)
    assert run.events() == [], "the procuratorate's record does not answer the transfer"
    run.complete("send_filing_notice", RELEASE)
    assert run.ready() == [("accept_police_filing_notice", "samr.liaison")]
    assert run.data_at("receive_supervision_notice")["supervision_notice"] == {
        "case_id": CASE_ID, "supervision_outcome": "filed_on_notice", "supervision_summary": FILED_SUMMARY,
        "supervision_trigger": "samr_request"}
    assert run.events() == []
    run.complete("accept_police_filing_notice", RECEIVED)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"supervision_ended", "filing_notice_to_samr", "conclude_filed"}
    # The handover in 立案协助 runs from SAMR's receipt of this notice: its time goes along.
    signed = run.data_at("conclude_filed")["legal_events"]["filing_notice_received"]
    assert run.events() == [("filing_supervision_concluded", {
        "supervision_outcome": "filed_on_notice", "supervision_summary": FILED_SUMMARY,
        "legal_events": {"filing_notice_received": signed}})]


def test_a_late_explanation_is_reported_and_pressed_while_both_wait(collaboration):
    run = start(collaboration, SAMR_REQUEST)
    run.complete("examine_supervision", EXAMINE)
    run.complete("send_explain_request", RELEASE)
    run.complete("accept_explain_request", RECEIVED)
    assert run.ready_data("explain_non_filing")[0]["legal_events"] == {
        "explain_request_received": run.data_at("accept_explain_request")["legal_events"]["explain_request_received"]}
    run.fire_timer("explain_non_filing_overdue", DUE_AT)
    # Non-interrupting on both sides: the police still explain, the procuratorate still waits.
    assert run.ready() == [("explain_non_filing", "police.handler"), ("press_explanation", "procuratorate.handler")]
    assert "await_explanation" in run.waiting()
    assert run.data_at("press_explanation")["explanation_overdue_report"] == {
        "case_id": CASE_ID, "task": "explain_non_filing", "due_at": DUE_AT}
    run.complete("press_explanation", {"note": "已发函督促。"})
    run.complete("explain_non_filing", EXPLAIN)
    run.complete("send_explanation", RELEASE)
    assert run.ready() == [("receive_explanation", "procuratorate.liaison")]


def test_fifteen_days_without_filing_are_escalated(collaboration):
    run = start(collaboration, SAMR_REQUEST)
    order_filing(run)
    run.fire_timer("filing_overdue", DUE_AT)
    assert run.ready() == [("record_escalation", "procuratorate.handler")], "the police task is withdrawn"
    assert run.data_at("filing_deadline_missed")["filing_overdue"] == {
        "case_id": CASE_ID, "task": "file_on_notice", "due_at": DUE_AT}
    run.complete("record_escalation", ESCALATE)
    assert run.ready() == [("send_outcome_notice", "procuratorate.liaison")]
    run.complete("send_outcome_notice", RELEASE)
    assert run.ready() == [("accept_supervision_notice", "samr.liaison")]
    samr_takes_note(run)
    assert run.completed(ENDS) == {"report_filing_missed", "samr_told", "conclude_transfer"}
    assert run.events() == [("filing_supervision_concluded", {
        "supervision_outcome": "not_filed_on_notice", "supervision_summary": ESCALATE["supervision_summary"]})]


def test_a_missed_filing_on_a_prosecutors_clue_tells_nobody_else(collaboration):
    run = start(collaboration, None)
    order_filing(run)
    run.fire_timer("filing_overdue", DUE_AT)
    run.complete("record_escalation", ESCALATE)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"report_filing_missed", "supervision_ended"}
    assert run.events() == []


def test_a_prosecutors_filing_order_ends_without_a_message(collaboration):
    run = start(collaboration, None)
    order_filing(run)
    run.complete("file_on_notice", FILED)
    run.complete("send_filing_report", RELEASE)
    run.complete("receive_filing_report", RECEIVED)
    run.complete("record_outcome", OUTCOME)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"police_filed", "supervision_ended"}, "no transferring organ to notify"
    assert run.events() == []


# --------------------------------------------------------------------------- conventions


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_passes_the_spiffworkflow_xsd():
    assert_passes_the_xsd(BPMN_FILE, "filing_supervision")


def test_conventions_deadlines_and_handoffs(root):
    assert_conventions(root)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert properties(collab) == {"startable_by": "procuratorate.handler",
                                  "started_by": "filing_supervision_requested"}
    tasks = {t.get("id"): properties(t) for t in root.iterfind(".//bpmn:userTask", NS)}
    outgoing = {k for k, p in tasks.items() if p.get("handoff") == "outgoing"}
    incoming = {k for k, p in tasks.items() if p.get("handoff") == "incoming"}
    assert outgoing == {"send_explain_request", "send_explanation", "send_supervision_notice",
                        "send_filing_order", "send_filing_report", "send_filing_notice", "send_outcome_notice"}
    assert incoming == {"accept_explain_request", "receive_explanation", "accept_assessment",
                        "accept_supervision_notice", "accept_filing_order", "receive_filing_report",
                        "accept_police_filing_notice"}
    # Liaisons act within 24 hours, as in 立案协助; the rest are the law's periods.
    assert {k: p["deadline"] for k, p in tasks.items() if "deadline" in p} == {
        "explain_non_filing": "reasons_reply", "notify_samr": "supervision_outcome_notice",
        "file_on_notice": "file_after_notice", "press_explanation": "supervision_follow_up",
        **dict.fromkeys(outgoing | incoming, "liaison_handoff")}
    # Each period's legal event is recorded where it happens.
    assert {k: p["records_event"] for k, p in tasks.items() if "records_event" in p} == {
        "examine_supervision": "supervision_examined", "assess_explanation": "supervision_examined",
        "accept_explain_request": "explain_request_received", "accept_filing_order": "filing_order_received",
        "accept_police_filing_notice": "filing_notice_received"}
    assert tasks["examine_supervision"]["documents"] == 'explain_request if supervision_decision == "request_explanation"'
    assert tasks["issue_filing_order"]["documents"] == "filing_order"
    # The 立案决定书, numbered by the system, always; the 立案通知书 when SAMR asked for the supervision.
    assert tasks["file_on_notice"]["documents"] == (
        'filing_decision_record; filing_notice if filing_order["supervision_trigger"] == "samr_request"')
    boundaries = {b.get("id"): (b.get("attachedToRef"), properties(b), b.get("cancelActivity"))
                  for b in root.iterfind(".//bpmn:boundaryEvent", NS)}
    assert boundaries == {
        # 15 days without filing end the police's task: the procuratorate corrects and escalates.
        "filing_overdue": ("file_on_notice", {"deadline": "file_after_notice"}, "true"),
        # A late explanation is reported (non-interrupting) and pressed by the prosecutor.
        "explain_non_filing_overdue": ("explain_non_filing", {"deadline": "reasons_reply"}, "false"),
        "explanation_overdue": ("await_explanation", {}, "false")}


def test_every_crossing_passes_both_liaisons(root):
    """The last person to act before a message flow leaves is the sending liaison, the first
    after it arrives the receiving liaison (the missed periods' reports, which nobody sends, aside)."""
    lanes = {ref.text: lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    user_tasks = {t.get("id") for t in root.iterfind(".//bpmn:userTask", NS)}
    flows = [(f.get("sourceRef"), f.get("targetRef")) for f in root.iterfind(".//bpmn:sequenceFlow", NS)]

    def people(node, step):
        """The user tasks reached from `node` walking the flows back (step 0) or forward (1)."""
        found, todo, seen = set(), [node], set()
        while todo:
            current = todo.pop()
            for flow in flows:
                if flow[1 - step] == current and flow[step] not in seen:
                    seen.add(flow[step])
                    (found.add if flow[step] in user_tasks else todo.append)(flow[step])
        return found

    for flow in root.iterfind(".//bpmn:messageFlow", NS):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in ("report_filing_missed", "report_explanation_missed"):
            continue
        senders, receivers = people(source, 0), people(target, 1)
        assert senders and all(lanes[t].endswith(".liaison") for t in senders), (flow.get("id"), senders)
        assert receivers and all(lanes[t].endswith(".liaison") for t in receivers), (flow.get("id"), receivers)


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={
        "case_id", "timer_due_at", "filing_supervision_requested", "request", "supervision_trigger",
        "supervision_outcome", "filing_order", "supervision_notice", "legal_events"})


@pytest.mark.parametrize(
    ("form", "data", "valid"),
    [
        ("supervision_examination", EXAMINE, True),
        ("supervision_examination", {**EXAMINE, "supervision_decision": "maybe"}, False),
        ("supervision_examination", {"supervision_decision": "close"}, False),
        ("explanation_assessment", FAIL, True),
        ("explanation_assessment", {"reasons_hold": True}, False),
        ("filing_on_notice", FILED, True),
        ("filing_on_notice", {**FILED, "filed_on": "三月二十日"}, False),
        ("filing_on_notice", {**FILED, "filing_number": "东公（经）立字〔2026〕7号"}, True),
        ("filing_on_notice", {**FILED, "filing_number": "立案决定书7号"}, False),
        ("filing_on_notice", {**FILED, "filing_number": ""}, False),
        ("filing_escalation", {**ESCALATE, "reported_to_superior": False}, False),
        ("supervision_notice", {"supervision_summary": ""}, False),
        ("non_filing_explanation", {**EXPLAIN, "extra": 1}, False),
    ],
)
def test_form_rules(form, data, valid):
    assert form_accepts(form, data) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "filing_supervision", {
        "procuratorate_filing_supervision", "police_filing_supervision", "samr_filing_supervision"})
    assert len(root.findall(".//bpmn:messageFlow", NS)) == 10


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["procuratorate_pool", "police_pool", "samr_pool"])
