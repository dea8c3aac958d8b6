"""信息共享: information_sharing.bpmn (on request), penalty_disclosure.bpmn and penalty_quash.bpmn
(the standing duties after a penalty decision) driven by SpiffWorkflow alone, serialized at every
step. Messages carry agency codes and decisions only; what is shared lives in domain tables.
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
    WORKFLOWS,
    Run,
    assert_conventions,
    assert_every_element_is_drawn,
    assert_forms_mark_exactly_what_is_read,
    assert_layout_can_be_drawn,
    load_form,
)

CASE_ID = 9
DUE_AT = "2029-03-02T15:59:59+00:00"


def parse(key: str, validator=None):
    parser = SpiffBpmnParser(validator=validator or BpmnValidator())
    parser.add_bpmn_file(str(WORKFLOWS / f"{key}.bpmn"))
    return parser.get_collaboration(key)


def root(key: str):
    return etree.parse(str(WORKFLOWS / f"{key}.bpmn")).getroot()


def sides(*pairs):
    def side(task) -> str | None:
        for process, name in pairs:
            if process in (task.workflow.spec.name, task.task_spec.bpmn_id):
                return name
        return None
    return side


# =========================================================================== on request

REQUESTER_KEYS = {"purpose", "legal_basis", "asked", "needed_by", "handoff_approved", "comment",
                  "acknowledged", "note", "decision"}
OWNER_KEYS = {"request", "requester_agency", "answer_text", "evidence_ids", "document_ids", "note_to_liaison",
              "sharing_approved", "expires_on", "viewer_ids", "refusal_reasons"}
REQUEST = {"owner_agency": "samr", "purpose": "核实犯罪嫌疑人是否已受行政处罚", "legal_basis": "刑事诉讼法第五十四条",
           "asked": "行政处罚决定书及罚款缴纳情况", "needed_by": "2026-03-20"}
ANSWER = {"answer_text": "已于2026年2月作出处罚决定，罚款已缴纳。", "evidence_ids": [5], "document_ids": [],
          "note_to_liaison": ""}
GRANT = {"sharing_approved": True, "expires_on": "2026-04-30", "viewer_ids": [3]}
REFUSAL = {"sharing_approved": False, "refusal_reasons": "请求内容超出办案需要"}
side_request = sides(("information_requester", "requester"), ("information_owner", "owner"))


def request_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side_request(task) == "owner":
            assert not keys & REQUESTER_KEYS, (task.task_spec.bpmn_id, keys & REQUESTER_KEYS)
            if "request" in keys:
                assert set(task.data["request"]) == {"case_id", "requester_agency", "owner_agency"}
        elif side_request(task) == "requester":
            assert not keys & OWNER_KEYS, (task.task_spec.bpmn_id, keys & OWNER_KEYS)
            if "decision" in keys:
                assert set(task.data["decision"]) == {"case_id", "approved"}


@pytest.fixture(scope="module")
def sharing():
    return parse("information_sharing")


def ask(collaboration, copy_all=False) -> Run:
    run = Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "police"}, request_separated)
    assert run.ready() == [("request_information", "police.handler")]
    run.complete("request_information", REQUEST, copy_all_form_data=copy_all)
    assert run.ready() == [("approve_request_handoff", "police.liaison")]
    return run


@pytest.mark.parametrize(("decision", "approved"), [(GRANT, True), (REFUSAL, False)], ids=["grant", "refuse"])
def test_owner_liaison_grants_or_refuses(sharing, decision, approved):
    run = ask(sharing)
    run.complete("approve_request_handoff", {"handoff_approved": True})
    assert run.ready() == [("prepare_answer", "samr.handler")]
    assert run.ready_data("prepare_answer")[0]["owner_agency"] == "samr"
    run.complete("prepare_answer", ANSWER)
    assert run.ready() == [("decide_sharing", "samr.liaison")]
    run.complete("decide_sharing", decision)
    assert run.ready() == [("read_sharing_decision", "police.handler")]
    assert run.ready_data("read_sharing_decision")[0]["decision"] == {"case_id": CASE_ID, "approved": approved}
    run.complete("read_sharing_decision", {"acknowledged": True})
    assert run.load().is_completed()
    assert run.completed({"request_closed", "send_decision"}) == {"request_closed", "send_decision"}


def test_requester_liaison_does_not_send_the_request(sharing):
    run = ask(sharing)
    run.complete("approve_request_handoff", {"handoff_approved": False, "comment": "法律依据不明确"})
    assert run.ready() == [] and run.load().is_completed()
    assert run.completed({"request_withdrawn"}) == {"request_withdrawn"}
    assert not [t for t in run.load().get_tasks() if side_request(t) == "owner"]


def test_only_payloads_cross_on_request_even_if_all_form_data_were_copied(sharing):
    run = ask(sharing, copy_all=True)
    for bpmn_id, data in (("approve_request_handoff", {"handoff_approved": True}), ("prepare_answer", ANSWER),
                          ("decide_sharing", GRANT), ("read_sharing_decision", {"acknowledged": True})):
        run.complete(bpmn_id, data, copy_all_form_data=True)
    assert run.load().is_completed()


def test_request_diagram_conventions_and_layout():
    tree = root("information_sharing")
    assert_conventions(tree)
    assert_forms_mark_exactly_what_is_read(tree, {"case_id", "initiator_agency", "request", "decision"})
    assert_every_element_is_drawn(tree, "information_sharing", {"information_requester", "information_owner"})
    assert_layout_can_be_drawn(tree, ["requester_pool", "owner_pool"])


@pytest.mark.parametrize(("form", "data", "valid"), [
    ("sharing_decision", GRANT, True),
    ("sharing_decision", {"sharing_approved": True, "expires_on": "2026-04-30", "viewer_ids": []}, False),
    ("sharing_decision", {"sharing_approved": True, "viewer_ids": [3]}, False),
    ("sharing_decision", REFUSAL, True),
    ("sharing_decision", {"sharing_approved": False, "refusal_reasons": ""}, False),
    ("information_request", {**REQUEST, "needed_by": "明天"}, False),
    ("information_request", {**REQUEST, "legal_basis": ""}, False),
    ("sharing_answer", ANSWER, True),
])
def test_sharing_form_rules(form, data, valid):
    validator = jsonschema.Draft202012Validator(load_form(form), format_checker=jsonschema.FormatChecker())
    errors = list(validator.iter_errors(data))
    assert (not errors) is valid, errors


# =========================================================================== standing duties

DECISION = {"decision_number": "东市监罚〔2026〕12号", "decided_on": "2026-03-02", "party_name": "某科技有限公司",
            "violation": "以不正当手段获取权利人的技术秘密（配方参数）", "penalty": "罚款人民币五十万元",
            "fine_amount": 500000}
PUBLICATION = {"published_on": "2026-03-10", "channel": "国家企业信用信息公示系统",
               "published_text": "某科技有限公司侵犯商业秘密，罚款五十万元。", "secret_redacted": True}
SAMR_KEYS = set(DECISION) | {"trade_secret_matter", "copied", "published_on", "channel", "published_text",
                             "secret_redacted", "withdrawn_on", "withdrawn", "quash"}
side_penalty = sides(("samr_penalty", "samr"), ("police_penalty_copy", "police"),
                     ("procuratorate_penalty_copy", "procuratorate"))


def penalty_separated(workflow) -> None:
    for task in workflow.get_tasks():
        if side_penalty(task) in ("police", "procuratorate"):
            keys = set(task.data)
            assert keys <= {"case_id", "initiator_agency", "penalty_copy", "received", "note"}, keys
            assert not keys & SAMR_KEYS
            if "penalty_copy" in keys:
                assert task.data["penalty_copy"] == {"case_id": CASE_ID}


@pytest.fixture(scope="module")
def penalty():
    return parse("penalty_disclosure")


def record(collaboration, trade_secret: bool) -> Run:
    run = Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "samr"}, penalty_separated)
    assert run.ready() == [("record_penalty_decision", "samr.handler")]
    run.complete("record_penalty_decision", {**DECISION, "trade_secret_matter": trade_secret})
    return run


# What penalty_quash sends: the case and the date the decision was quashed, which the withdrawal runs from.
QUASHED = {"case_id": CASE_ID, "legal_events": {"penalty_quashed": "2026-05-03"}}


def quash(run: Run) -> None:
    """What the engine does when penalty_quash's message reaches this instance."""
    workflow = run.load()
    assert "penalty_decision_quashed" in {e.name for e in workflow.waiting_events()}
    workflow.send_event(BpmnEvent(MessageEventDefinition("penalty_decision_quashed"), QUASHED))
    workflow.do_engine_steps()
    run._save(workflow)


def test_trade_secret_penalty_is_copied_and_published(penalty):
    run = record(penalty, trade_secret=True)
    # Nobody starts the copy duty by hand: it is there as soon as the decision is recorded.
    assert run.ready() == [("copy_penalty_decision", "samr.liaison"),
                           ("publish_penalty_information", "samr.handler")]
    # Both periods run from the decision's date as entered, not from when it was registered.
    for step in ("copy_penalty_decision", "publish_penalty_information"):
        assert run.ready_data(step)[0]["legal_events"] == {"penalty_decided": "2026-03-02"}
    run.complete("copy_penalty_decision", {"copied": True})
    assert run.ready() == [("publish_penalty_information", "samr.handler"),
                           ("receive_penalty_copy_police", "police.liaison"),
                           ("receive_penalty_copy_procuratorate", "procuratorate.liaison")]
    run.complete("receive_penalty_copy_police", {"received": True})
    run.complete("receive_penalty_copy_procuratorate", {"received": True})
    run.complete("publish_penalty_information", PUBLICATION)
    assert run.ready() == [] and run.waiting() == ["await_quash", "publication_period_over"]
    run.fire_timer("publication_period_over", DUE_AT)
    assert run.load().is_completed()
    assert run.completed({"publication_ended", "penalty_withdrawn", "send_penalty_copy"}) == \
        {"publication_ended", "send_penalty_copy"}


def test_other_penalties_are_only_published(penalty):
    run = record(penalty, trade_secret=False)
    assert run.ready() == [("publish_penalty_information", "samr.handler")]
    run.complete("publish_penalty_information", PUBLICATION)
    run.fire_timer("publication_period_over", DUE_AT)
    assert run.load().is_completed()
    assert not [t for t in run.load().get_tasks() if side_penalty(t) in ("police", "procuratorate")]


def test_a_quashed_decision_is_withdrawn(penalty):
    run = record(penalty, trade_secret=False)
    run.complete("publish_penalty_information", PUBLICATION)
    quash(run)
    assert run.ready() == [("withdraw_penalty_information", "samr.handler")]
    assert run.ready_data("withdraw_penalty_information")[0]["legal_events"] == {
        "penalty_decided": "2026-03-02", "penalty_published": "2026-03-10", "penalty_quashed": "2026-05-03"}
    assert run.waiting() == [], "the publication-period timer was cancelled"
    run.complete("withdraw_penalty_information", {"withdrawn_on": "2026-05-06", "withdrawn": True})
    assert run.load().is_completed()
    assert run.completed({"penalty_withdrawn"}) == {"penalty_withdrawn"}


def test_recording_a_quash_throws_its_message_to_the_case():
    run = Run(parse("penalty_quash"), {"case_id": CASE_ID, "initiator_agency": "samr"})
    run.complete("record_penalty_quash", {"decision_number": "东市监罚〔2026〕12号", "quashed_on": "2026-05-03",
                                          "quashed_by": "聊城市人民政府", "reason": "认定事实不清"})
    workflow = run.load()
    assert workflow.is_completed()
    assert [(e.event_definition.name, e.payload) for e in workflow.get_events()] == \
        [("penalty_decision_quashed", QUASHED)]


@pytest.mark.parametrize(("key", "processes", "pools", "supplied"), [
    ("penalty_disclosure", {"samr_penalty", "police_penalty_copy", "procuratorate_penalty_copy"},
     ["samr_pool", "police_pool", "procuratorate_pool"], {"case_id", "legal_events", "quash"}),
    ("penalty_quash", {"samr_penalty_quash"}, ["samr_pool"], {"case_id", "legal_events"}),
    ("information_sharing", {"information_requester", "information_owner"}, ["requester_pool", "owner_pool"],
     {"case_id", "initiator_agency", "request", "decision"}),
])
def test_diagrams_pass_the_xsd_and_are_drawn(key, processes, pools, supplied):
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parse(key, validator)
    tree = root(key)
    assert_conventions(tree)
    assert_forms_mark_exactly_what_is_read(tree, supplied)
    assert_every_element_is_drawn(tree, key, processes)
    assert_layout_can_be_drawn(tree, pools)


def test_publication_form_requires_the_secret_redacted():
    errors = list(jsonschema.Draft202012Validator(load_form("penalty_publication")).iter_errors(
        {**PUBLICATION, "secret_redacted": False}))
    assert errors
