"""The criminal-threshold decision table (workflows/criminal_threshold.dmn) run by SpiffWorkflow alone:
every rule row, and both sides of every boundary (300,000 and 2,500,000 yuan; each yes/no fact)."""
from __future__ import annotations

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from tests.workflows.diagram_checks import WORKFLOWS

DMN_FILE = WORKFLOWS / "criminal_threshold.dmn"
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


# --------------------------------------------------------------------------- DMN

PROBE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="probe_definitions" targetNamespace="http://liandong.local/test">
  <bpmn:process id="threshold_probe" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="assess">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>criminal_threshold</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="assess" />
    <bpmn:sequenceFlow id="f2" sourceRef="assess" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""

# (loss_amount, illegal_gain, bankruptcy_caused, other_major_loss, police_measures_needed)
#   -> threshold, especially_serious, first matching rule. None is an amount not yet known.
F, T, U = False, True, None
DMN_CASES = [
    ((2500000, 0, F, F, F), "criminal", True, "rule_loss_especially_serious"),
    ((2499999, 0, F, F, F), "criminal", False, "rule_loss"),
    ((2499999.99, 0, F, F, F), "criminal", False, "rule_loss"),
    ((0, 2500000, F, F, F), "criminal", True, "rule_gain_especially_serious"),
    ((0, 2499999, F, F, F), "criminal", False, "rule_gain"),
    ((100000, 2600000, F, F, F), "criminal", True, "rule_gain_especially_serious"),
    ((300000, 0, F, F, F), "criminal", False, "rule_loss"),
    ((299999, 0, F, F, F), "below_threshold", False, "rule_below_threshold"),
    ((299999.99, 0, F, F, F), "below_threshold", False, "rule_below_threshold"),
    ((0, 300000, F, F, F), "criminal", False, "rule_gain"),
    ((0, 299999, F, F, F), "below_threshold", False, "rule_below_threshold"),
    ((0, 299999.99, F, F, F), "below_threshold", False, "rule_below_threshold"),
    ((299999.99, 299999.99, F, F, F), "below_threshold", False, "rule_below_threshold"),
    ((0, 0, T, F, F), "criminal", False, "rule_bankruptcy"),
    ((0, 0, F, T, F), "criminal", False, "rule_other_major_loss"),
    ((0, 0, F, F, T), "reasonable_suspicion", False, "rule_reasonable_suspicion"),
    ((299999.99, 299999.99, F, F, T), "reasonable_suspicion", False, "rule_reasonable_suspicion"),
    ((300000, 0, F, F, T), "criminal", False, "rule_loss"),
    ((0, 0, T, T, T), "criminal", False, "rule_bankruptcy"),
    ((3000000, 3000000, T, T, T), "criminal", True, "rule_loss_especially_serious"),
    ((0, 0, F, F, F), "below_threshold", False, "rule_below_threshold"),
    # Unknown amounts: never read as 0. A known amount at the standard still decides; an unknown
    # one with nothing else met leaves the question open instead of "below".
    ((U, U, F, F, F), "unknown", False, "rule_loss_unknown"),
    ((U, 0, F, F, F), "unknown", False, "rule_loss_unknown"),
    ((0, U, F, F, F), "unknown", False, "rule_gain_unknown"),
    ((299999, U, F, F, F), "unknown", False, "rule_gain_unknown"),
    ((U, 300000, F, F, F), "criminal", False, "rule_gain"),
    ((U, 299999, F, F, F), "unknown", False, "rule_loss_unknown"),
    ((2500000, U, F, F, F), "criminal", True, "rule_loss_especially_serious"),
    ((U, 2499999, F, F, F), "criminal", False, "rule_gain"),
    ((U, U, T, F, F), "criminal", False, "rule_bankruptcy"),
    ((U, U, F, T, F), "criminal", False, "rule_other_major_loss"),
    ((U, U, F, F, T), "reasonable_suspicion", False, "rule_reasonable_suspicion"),
]
DMN_INPUTS = ("loss_amount", "illegal_gain", "bankruptcy_caused", "other_major_loss",
              "police_measures_needed")


@pytest.fixture(scope="module")
def probe_spec():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_str(PROBE_BPMN.encode("utf-8"), "threshold_probe.bpmn")
    parser.add_dmn_file(str(DMN_FILE))
    return parser.get_spec("threshold_probe")


@pytest.mark.parametrize(
    ("inputs", "threshold", "especially_serious", "rule_id"),
    DMN_CASES,
    ids=["-".join(str(v) for v in case[0]) for case in DMN_CASES],
)
def test_criminal_threshold_rows(probe_spec, inputs, threshold, especially_serious, rule_id):
    workflow = BpmnWorkflow(probe_spec)
    [start] = workflow.get_tasks(state=TaskState.READY)
    start.set_data(**dict(zip(DMN_INPUTS, inputs, strict=False)))
    workflow.do_engine_steps()
    assert workflow.is_completed()
    [assess] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "assess"]
    assert assess.data["threshold"] == threshold
    assert assess.data["especially_serious"] is especially_serious
    assert assess.data["threshold_rule"] == rule_id
    assert assess.task_spec.dmnEngine.decide(assess)[0].id == rule_id


def test_every_dmn_rule_is_tested():
    rule_ids = {r.get("id") for r in etree.parse(str(DMN_FILE)).iterfind(".//dmn:rule", DMN_NS)}
    assert rule_ids == {case[-1] for case in DMN_CASES}


def test_table_carries_its_version_effective_date_and_legal_source():
    [decision] = etree.parse(str(DMN_FILE)).iterfind(".//dmn:decision", DMN_NS)
    liandong = "{http://liandong.local/schema/dmn}"
    assert decision.get(f"{liandong}version")
    assert decision.get(f"{liandong}effectiveDate") == "2021-03-01"
    source = decision.findtext("dmn:description", namespaces=DMN_NS)
    assert "立案追诉标准" in source and "2020" in source and "情节严重" in source and "第3条第2款" in source


def test_every_rule_names_itself_and_says_why():
    """The output threshold_rule is the row's own id (what the engine records as the rule that
    fired), and every row has the description the pages and the 移送书 quote."""
    for rule in etree.parse(str(DMN_FILE)).iterfind(".//dmn:rule", DMN_NS):
        outputs = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.iterfind("dmn:outputEntry", DMN_NS)]
        assert f'"{rule.get("id")}"' in outputs
        assert rule.findtext("dmn:description", namespaces=DMN_NS)
