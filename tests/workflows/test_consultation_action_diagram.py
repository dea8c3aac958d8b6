"""会商落实事项 (consultation_action.bpmn) driven by SpiffWorkflow alone: the one task an action item of
the minutes gives an agency, in that agency's liaison lane, due by the period the minutes set."""
from __future__ import annotations

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.mechanisms.consultation_actions import PERIODS
from engine.time.legal_periods import load_catalog
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

BPMN_FILE = WORKFLOWS / "consultation_action.bpmn"
START = {"case_id": 42, "initiator_agency": "samr", "action_agency": "police", "action_deadline": "5wd",
         "action_item": 7}


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_collaboration("consultation_action")


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN_FILE)).getroot()


@pytest.mark.parametrize("outcome", ["done", "cancelled"])
def test_the_agency_carries_out_the_item_or_cancels_it(collaboration, outcome):
    run = Run(collaboration, START)
    assert run.ready() == [("carry_out_action", "police.liaison")]
    assert run.ready_data("carry_out_action")[0]["action_deadline"] == "5wd"
    run.complete("carry_out_action", {"outcome": outcome, "note": "已落实。"})
    assert run.load().is_completed()
    assert run.events() == [], "the item's state is the engine's row, not a message"


def test_passes_the_spiffworkflow_xsd():
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parser = SpiffBpmnParser(validator=validator)
        parser.add_bpmn_file(str(BPMN_FILE))
        parser.get_collaboration("consultation_action")


def test_conventions_and_routing(root):
    assert_conventions(root)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert properties(collab) == {}, "only the minutes start it: no one may start it from a case page"
    [task] = root.iterfind(".//bpmn:userTask", NS)
    assert properties(task) == {"form": "consultation_action", "hook": "consultation_action",
                                "deadline": "consultation_action", "deadline_from": "action_deadline",
                                "agency_from": "action_agency"}


def test_the_periods_the_minutes_may_set_are_the_rule_s():
    rule = load_catalog(WORKFLOWS / "deadlines.toml").rules["consultation_action"]
    assert [rule.period, *(e.period for e in rule.extensions)] == [f"{n}wd" for n in PERIODS]


def test_forms_mark_exactly_the_variables_the_diagram_reads(root):
    assert_forms_mark_exactly_what_is_read(root, supplied={"case_id", "action_agency", "action_deadline"})


@pytest.mark.parametrize(("data", "valid"), [
    ({"outcome": "done", "note": "已调取。"}, True),
    ({"outcome": "cancelled", "note": "无需落实。"}, True),
    ({"outcome": "cancelled", "note": ""}, False),
    ({"outcome": "later", "note": "x"}, False),
    ({"note": "x"}, False),
])
def test_form_rules(data, valid):
    validator = jsonschema.Draft202012Validator(load_form("consultation_action"))
    assert (not list(validator.iter_errors(data))) is valid


def test_every_element_is_drawn(root):
    assert_every_element_is_drawn(root, "consultation_action", {"consultation_action_process"})


def test_layout_can_be_drawn(root):
    assert_layout_can_be_drawn(root, ["action_pool"])
