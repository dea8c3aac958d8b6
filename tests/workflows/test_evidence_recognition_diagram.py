"""证据互认 (evidence_recognition.bpmn) driven by SpiffWorkflow alone, serialized at every step.

The provider pool's tasks go back to whichever agency started the mechanism (`initiator_agency`);
the receiving pool's to the agency the provider chose (`receiving_agency`). The receiving handler
reviews each item in its own small task (multi-instance over the item ids); the workflow carries
ids and verdicts only, and no pool ever holds the other agency's form data.
"""
from __future__ import annotations

import itertools

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from tests.workflows.diagram_checks import (
    WORKFLOWS,
    Run,
    assert_conventions,
    assert_every_element_is_drawn,
    assert_forms_mark_exactly_what_is_read,
    assert_layout_can_be_drawn,
    load_form,
)

BPMN_FILE = WORKFLOWS / "evidence_recognition.bpmn"
CASE_ID = 7
ITEMS = [11, 12, 13]
VERDICTS = {"recognised", "rejected", "supplement"}

# What only one side writes (receiving_agency is chosen by the provider and read by both; each
# side's liaison answers its own `handoff_approved`, with a `comment`).
PROVIDER_KEYS = {"proceed", "item_ids", "purpose", "supplement_note", "acknowledged",
                 "note", "supplement_request", "recognition"}
RECEIVER_KEYS = {"package", "review_items", "verdicts", "review_round", "max_rounds", "item_id", "verdict",
                 "received", "receipt_note", "lawful", "authentic", "relevant", "reason", "supplement"}
PACKAGE = {"proceed": True, "item_ids": ITEMS, "receiving_agency": "police", "purpose": "请公安机关审查认可本案证据。"}
WITHDRAW = {"proceed": False, "withdrawal_reason": "本案尚无本机关收集的证据。"}
APPROVE = {"handoff_approved": True}
REFUSE = {"handoff_approved": False, "comment": "证据清单与实物不符，暂不移交。"}
RECEIPT = {"received": True, "receipt_note": "数量相符"}
RECOGNISE = {"lawful": True, "authentic": True, "relevant": True, "verdict": "recognised", "reason": ""}
REJECT = {"lawful": False, "authentic": True, "relevant": True, "verdict": "rejected", "reason": "收集程序不合法"}
SUPPLEMENT = {"lawful": True, "authentic": True, "relevant": True, "verdict": "supplement",
              "reason": "请补充提取过程说明"}
RESULT_OK = {"handoff_approved": True}
RESULT_BACK = {"handoff_approved": False, "comment": "第13项理由不充分，请重新审查。"}
SUPPLY = {"supplement_note": "已补充提取过程说明和见证人签字。"}
ACK = {"acknowledged": True}
ENDS = {"package_refused", "recognition_acknowledged", "send_result", "recognition_withdrawn"}


def side(task) -> str | None:
    for process, name in (("evidence_provider", "provider"), ("evidence_receiver", "receiver")):
        if process in (task.workflow.spec.name, task.task_spec.bpmn_id):
            return name
    return None


def assert_agencies_separated(workflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side(task) == "receiver":
            assert not keys & PROVIDER_KEYS, (task.task_spec.bpmn_id, keys & PROVIDER_KEYS)
            if "package" in keys:
                assert set(task.data["package"]) == {"case_id", "item_ids", "receiving_agency", "provider_agency"}
            if "supplement" in keys:
                assert set(task.data["supplement"]) == {"case_id", "supplied"}
            assert set(task.data.get("verdicts", {}).values()) <= VERDICTS
        elif side(task) == "provider":
            assert not keys & RECEIVER_KEYS, (task.task_spec.bpmn_id, keys & RECEIVER_KEYS)
            if "supplement_request" in keys:
                assert set(task.data["supplement_request"]) == {"case_id", "item_ids", "round"}
            if "recognition" in keys:
                assert set(task.data["recognition"]) == {"case_id", "verdicts"}


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_collaboration("evidence_recognition")


def start(collaboration) -> Run:
    return Run(collaboration, {"case_id": CASE_ID, "initiator_agency": "samr"}, assert_agencies_separated)


def hand_over(run: Run, copy_all: bool = False) -> None:
    assert run.ready() == [("submit_package", "samr.handler")]
    run.complete("submit_package", PACKAGE, copy_all_form_data=copy_all)
    assert run.ready() == [("approve_package_handoff", "samr.liaison")]
    run.complete("approve_package_handoff", APPROVE, copy_all_form_data=copy_all)
    assert run.ready() == [("receive_package", "police.liaison")]
    assert run.data_at("receiver_start")["package"] == {
        "case_id": CASE_ID, "item_ids": ITEMS, "receiving_agency": "police", "provider_agency": "samr"}
    run.complete("receive_package", RECEIPT, copy_all_form_data=copy_all)


def review(run: Run, verdicts: dict[int, dict], order=None, copy_all: bool = False) -> None:
    assert sorted(d["item_id"] for d in run.ready_data("review_item")) == sorted(verdicts)
    for item_id in order or verdicts:
        run.complete("review_item", verdicts[item_id], where={"item_id": item_id}, copy_all_form_data=copy_all)


def recognition(run: Run) -> dict:
    return run.data_at("acknowledge_recognition")["recognition"]


# --------------------------------------------------------------------------- paths


def test_the_handler_withdraws_instead_of_submitting(collaboration):
    run = start(collaboration)
    run.complete("submit_package", WITHDRAW)
    assert run.ready() == []
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"recognition_withdrawn"}
    assert not [t for t in run.load().get_tasks() if side(t) == "receiver"], "nothing reached the receiver"


def test_provider_liaison_refuses_the_handoff(collaboration):
    run = start(collaboration)
    run.complete("submit_package", PACKAGE)
    run.complete("approve_package_handoff", REFUSE)
    assert run.ready() == []
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"package_refused"}
    assert not [t for t in run.load().get_tasks() if side(t) == "receiver"], "nothing reached the receiver"


@pytest.mark.parametrize("order", list(itertools.permutations(ITEMS)))
def test_items_are_reviewed_in_parallel_in_any_order(collaboration, order):
    run = start(collaboration)
    hand_over(run)
    assert run.ready() == [("review_item", "police.handler")] * 3
    review(run, {11: RECOGNISE, 12: REJECT, 13: RECOGNISE}, order=order)
    assert run.ready() == [("approve_result", "police.liaison")]
    run.complete("approve_result", RESULT_OK)
    assert run.ready() == [("acknowledge_recognition", "samr.handler")]
    assert recognition(run) == {"case_id": CASE_ID,
                                "verdicts": {"11": "recognised", "12": "rejected", "13": "recognised"}}
    run.complete("acknowledge_recognition", ACK)
    assert run.load().is_completed()
    assert run.completed(ENDS) == {"send_result", "recognition_acknowledged"}


def test_supplement_round_reviews_only_the_supplemented_items(collaboration):
    run = start(collaboration)
    hand_over(run)
    review(run, {11: RECOGNISE, 12: SUPPLEMENT, 13: REJECT})
    run.complete("approve_result", RESULT_OK)
    assert run.ready() == [("supply_supplement", "samr.handler")]
    assert run.ready_data("supply_supplement")[0]["supplement_request"] == {
        "case_id": CASE_ID, "item_ids": [12], "round": 1}
    run.complete("supply_supplement", SUPPLY)
    assert run.ready() == [("approve_supplement", "samr.liaison")]
    run.complete("approve_supplement", APPROVE)
    [again] = run.ready_data("review_item")
    assert (again["item_id"], again["review_round"]) == (12, 2)
    review(run, {12: RECOGNISE})
    run.complete("approve_result", RESULT_OK)
    assert recognition(run)["verdicts"] == {"11": "recognised", "12": "recognised", "13": "rejected"}
    run.complete("acknowledge_recognition", ACK)
    assert run.load().is_completed()


def test_a_supplement_the_provider_liaison_does_not_release_ends_the_review(collaboration):
    run = start(collaboration)
    hand_over(run)
    review(run, {11: RECOGNISE, 12: SUPPLEMENT, 13: RECOGNISE})
    run.complete("approve_result", RESULT_OK)
    run.complete("supply_supplement", SUPPLY)
    run.complete("approve_supplement", REFUSE)
    # The result goes back as it stands: item 12 was not supplemented, so not recognised.
    assert run.ready() == [("acknowledge_recognition", "samr.handler")]
    assert recognition(run)["verdicts"]["12"] == "supplement"


def test_receiving_liaison_returns_the_result_for_a_full_review(collaboration):
    run = start(collaboration)
    hand_over(run)
    review(run, {11: RECOGNISE, 12: RECOGNISE, 13: REJECT})
    run.complete("approve_result", RESULT_BACK)
    assert sorted((d["item_id"], d["review_round"]) for d in run.ready_data("review_item")) == \
        [(11, 2), (12, 2), (13, 2)]
    review(run, {11: RECOGNISE, 12: RECOGNISE, 13: RECOGNISE})
    run.complete("approve_result", RESULT_OK)
    assert set(recognition(run)["verdicts"].values()) == {"recognised"}


def test_review_rounds_are_bounded(collaboration):
    run = start(collaboration)
    hand_over(run)
    review(run, {11: RECOGNISE, 12: RECOGNISE, 13: SUPPLEMENT})
    for _ in range(2):  # rounds 2 and 3 are supplement rounds
        run.complete("approve_result", RESULT_OK)
        run.complete("supply_supplement", SUPPLY)
        run.complete("approve_supplement", APPROVE)
        review(run, {13: SUPPLEMENT})
    assert run.data_at("approve_result")["review_round"] == 3
    run.complete("approve_result", RESULT_OK)
    # Round 3 was the last: no further supplement request, the result is final.
    assert run.ready() == [("acknowledge_recognition", "samr.handler")]
    assert recognition(run)["verdicts"]["13"] == "supplement"
    reviews = [t for t in run.load().get_tasks() if t.task_spec.bpmn_id == "review_item"
               and t.data.get("item_id") == 13]
    assert len(reviews) == 3


def test_the_last_round_has_no_return_path(collaboration):
    # The engine's hook refuses this answer (tests/engine/test_evidence_recognition.py); the
    # diagram itself has no path for it, so it could never loop past its bound.
    run = start(collaboration)
    hand_over(run)
    review(run, {11: RECOGNISE, 12: RECOGNISE, 13: RECOGNISE})
    run.complete("approve_result", RESULT_BACK)
    review(run, {11: RECOGNISE, 12: RECOGNISE, 13: RECOGNISE})
    run.complete("approve_result", RESULT_BACK)
    review(run, {11: RECOGNISE, 12: RECOGNISE, 13: RECOGNISE})
    with pytest.raises(WorkflowException):
        run.complete("approve_result", RESULT_BACK)


def test_only_payloads_cross_even_if_all_form_data_were_copied(collaboration):
    run = start(collaboration)
    hand_over(run, copy_all=True)  # purpose, receipt_note... are now workflow data of their pools
    review(run, {11: RECOGNISE, 12: SUPPLEMENT, 13: REJECT}, copy_all=True)
    run.complete("approve_result", RESULT_OK, copy_all_form_data=True)
    run.complete("supply_supplement", SUPPLY, copy_all_form_data=True)
    run.complete("approve_supplement", APPROVE, copy_all_form_data=True)
    review(run, {12: RECOGNISE}, copy_all=True)
    run.complete("approve_result", RESULT_OK, copy_all_form_data=True)
    run.complete("acknowledge_recognition", ACK, copy_all_form_data=True)  # every step checked both sides
    assert run.load().is_completed()


# --------------------------------------------------------------------------- conventions


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


def test_bpmn_passes_the_spiffworkflow_xsd():
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parser = SpiffBpmnParser(validator=validator)
        parser.add_bpmn_file(str(BPMN_FILE))
        parser.get_collaboration("evidence_recognition")


def test_conventions_and_forms(root):
    assert_conventions(root)
    supplied = {"case_id", "initiator_agency",  # the engine
                "package", "supplement", "supplement_request", "recognition",  # message variables
                "review_items", "verdicts", "review_round", "max_rounds",  # scripts
                "str", "int", "sorted"}
    assert_forms_mark_exactly_what_is_read(root, supplied)


def test_every_element_is_drawn_and_the_layout_can_be_drawn(root):
    assert_every_element_is_drawn(root, "evidence_recognition", {"evidence_provider", "evidence_receiver"})
    assert_layout_can_be_drawn(root, ["provider_pool", "receiver_pool"])


@pytest.mark.parametrize(("form", "data", "valid"), [
    ("evidence_package", PACKAGE, True),
    ("evidence_package", WITHDRAW, True),
    ("evidence_package", {"proceed": False}, False),
    ("evidence_package", {"proceed": False, "withdrawal_reason": ""}, False),
    ("evidence_package", {"proceed": True}, False),
    ("evidence_package", {**PACKAGE, "item_ids": []}, False),
    ("evidence_package", {**PACKAGE, "item_ids": list(range(1, 1002))}, False),
    ("evidence_package", {**PACKAGE, "item_ids": [11, 11]}, False),
    ("evidence_package", {**PACKAGE, "receiving_agency": "office"}, False),
    ("evidence_handoff", {"handoff_approved": False}, False),
    ("evidence_handoff", REFUSE, True),
    ("evidence_review", RECOGNISE, True),
    ("evidence_review", {**RECOGNISE, "lawful": False}, False),
    ("evidence_review", {**REJECT, "reason": ""}, False),
    ("evidence_review", {**SUPPLEMENT, "reason": ""}, False),
    ("evidence_review", REJECT, True),
    ("recognition_result", {"handoff_approved": False}, False),
    ("package_receipt", {"received": False}, False),
])
def test_form_rules(form, data, valid):
    errors = list(jsonschema.Draft202012Validator(load_form(form)).iter_errors(data))
    assert (not errors) is valid, errors


def test_review_form_says_interview_records_are_not_recognised():
    assert "询问笔录不能互认" in load_form("evidence_review")["description"]
