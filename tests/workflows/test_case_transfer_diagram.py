"""立案协助 (case_transfer.bpmn + criminal_threshold.dmn) driven by SpiffWorkflow alone.

No database and no engine/ code: these tests pin down what the diagram itself does, so that a
failure here is a diagram problem and not an engine one. Every step reloads the instance from its
serialized form, as the engine does, so persistence problems show up at the step that causes them.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
BPMN_FILE = WORKFLOWS / "case_transfer.bpmn"
DMN_FILE = WORKFLOWS / "criminal_threshold.dmn"
FORMS = WORKFLOWS / "forms"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway",
}
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
CASE_ID = "TS-2025-0001"

# What each agency writes; nothing on one list may ever appear in the other agency's task data.
SAMR_KEYS = {
    "party_name", "suspected_offence", "summary", "loss_amount", "illegal_gain",
    "bankruptcy_caused", "other_major_loss", "police_measures_needed", "threshold",
    "especially_serious", "transfer_approved", "reasons", "handoff_approved", "comment",
    "acknowledged", "note",
}
POLICE_KEYS = {
    "received", "receipt_note", "recommendation", "opinion", "filing_decision", "filing_reasons",
    "transfer",
}
TRANSFER_PAYLOAD_KEYS = {"case_id", "threshold", "especially_serious"}
# The office and the procuratorate learn that a deadline passed, never the facts behind it.
OVERDUE_PAYLOAD_KEYS = {"case_id", "task", "due_at"}
ESCALATION_KEYS = {"overdue", "note"}
DUE_AT = "2026-03-05T15:59:59+00:00"

FACTS = {
    "party_name": "某科技有限公司",
    "suspected_offence": "侵犯商业秘密罪",
    "loss_amount": 500000,
    "illegal_gain": 120000.5,
    "bankruptcy_caused": False,
    "other_major_loss": False,
    "police_measures_needed": False,
    "summary": "前员工离职时拷贝核心工艺参数，并在竞争企业使用。",
}


def load_form(name: str) -> dict:
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


def tree(path: Path) -> etree._ElementTree:
    return etree.parse(str(path))


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    parser.add_dmn_file(str(DMN_FILE))
    return parser.get_collaboration("case_transfer")


class Transfer:
    """One case_transfer instance, kept only in serialized form between steps."""

    def __init__(self, collaboration, copy_all_form_data: bool = False):
        spec, subprocess_specs = collaboration
        workflow = BpmnWorkflow(spec, subprocess_specs)
        [start] = workflow.get_tasks(state=TaskState.READY)
        start.set_data(case_id=CASE_ID)  # the engine supplies case_id
        workflow.do_engine_steps()
        # True simulates an engine that forgets to copy only x-variables: the payloads alone must
        # still keep each agency's data on its own side.
        self.copy_all_form_data = copy_all_form_data
        self._save(workflow)

    def _save(self, workflow: BpmnWorkflow) -> None:
        self.stored = SERIALIZER.serialize_json(workflow)
        assert_agencies_separated(self.load())

    def load(self) -> BpmnWorkflow:
        return SERIALIZER.deserialize_json(self.stored)

    def ready(self) -> list[tuple[str, str]]:
        workflow = self.load()
        tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
        return sorted((t.task_spec.bpmn_id, t.task_spec.lane) for t in tasks)

    def complete(self, bpmn_id: str, form_data: dict) -> None:
        workflow = self.load()
        [task] = [
            t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
            if t.task_spec.bpmn_id == bpmn_id
        ]
        schema = load_form(task.task_spec.extensions["properties"]["form"])
        jsonschema.Draft202012Validator(schema).validate(form_data)
        if self.copy_all_form_data:
            variables = dict(form_data)
        else:
            variables = {
                k: v for k, v in form_data.items() if schema["properties"][k].get("x-variable")
            }
        task.set_data(**variables)
        task.run()
        workflow.do_engine_steps()
        self._save(workflow)

    def fire_timer(self, bpmn_id: str) -> None:
        """What engine/timers.py does when a timer is due: hand over its due time, let it fire."""
        workflow = self.load()
        [timer] = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
        timer.data["timer_due_at"] = DUE_AT
        timer.internal_data["event_value"] = "2000-01-01T00:00:00+00:00"
        workflow.refresh_timers()
        workflow.do_engine_steps()
        self._save(workflow)

    def finished_at(self) -> set[str]:
        workflow = self.load()
        return {
            t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.bpmn_id in {"transfer_refused", "transfer_closed", "filing_notified",
                                       "decision_supervised", "clue_reviewed"}
        }

    def data_at(self, bpmn_id: str) -> dict:
        workflow = self.load()
        [task] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == bpmn_id]
        return task.data


def side(task) -> str | None:
    """The agency whose data a task holds: its pool's process, or the pool's participant task."""
    for process, agency in (("samr_transfer", "samr"), ("police_transfer", "police"),
                            ("office_supervision", "office"),
                            ("procuratorate_supervision", "procuratorate")):
        if task.workflow.spec.name == process or task.task_spec.bpmn_id == process:
            return agency
    return None


def assert_agencies_separated(workflow: BpmnWorkflow) -> None:
    for task in workflow.get_tasks():
        keys = set(task.data)
        if side(task) == "police":
            assert not keys & SAMR_KEYS, (task.task_spec.bpmn_id, keys & SAMR_KEYS)
            if "transfer" in keys:
                assert set(task.data["transfer"]) == TRANSFER_PAYLOAD_KEYS
        elif side(task) == "samr":
            assert not keys & POLICE_KEYS, (task.task_spec.bpmn_id, keys & POLICE_KEYS)
            if "filing" in keys:
                assert set(task.data["filing"]) == {"decision", "reasons"}
        elif side(task) in ("office", "procuratorate"):
            # case_id comes from the engine at start, like in every pool.
            assert keys - {"case_id"} <= ESCALATION_KEYS, (task.task_spec.bpmn_id, keys)
            if "overdue" in keys:
                assert set(task.data["overdue"]) == OVERDUE_PAYLOAD_KEYS


def register_and_approve(case: Transfer, returns: int = 0) -> None:
    """SAMR side up to the transfer message, with `returns` handoffs sent back to the head."""
    assert case.ready() == [("register_facts", "samr.handler")]
    case.complete("register_facts", FACTS)
    for _ in range(returns):
        assert case.ready() == [("decide_transfer", "samr.head")]
        case.complete("decide_transfer", {"transfer_approved": True})
        assert case.ready() == [("approve_outgoing_handoff", "samr.liaison")]
        case.complete("approve_outgoing_handoff",
                      {"handoff_approved": False, "comment": "移送书缺少涉案物品清单，请补正。"})
    assert case.ready() == [("decide_transfer", "samr.head")]
    case.complete("decide_transfer", {"transfer_approved": True})
    assert case.ready() == [("approve_outgoing_handoff", "samr.liaison")]
    case.complete("approve_outgoing_handoff", {"handoff_approved": True})


def police_decides(case: Transfer, decision: str, reasons: str) -> None:
    assert case.ready() == [("accept_receipt", "police.liaison")]
    workflow = case.load()
    [waiting] = [t for t in workflow.get_tasks(state=TaskState.WAITING)
                 if t.task_spec.bpmn_id == "receive_filing_decision"]
    assert waiting.task_spec.lane == "samr.liaison"
    assert case.data_at("receive_transfer")["transfer"] == {
        "case_id": CASE_ID, "threshold": "criminal", "especially_serious": False,
    }
    case.complete("accept_receipt", {"received": True, "receipt_note": "材料齐全"})
    assert case.ready() == [("review_case", "police.handler")]
    case.complete("review_case", {"recommendation": decision, "opinion": "经审查，提出意见。"})
    assert case.ready() == [("decide_filing", "police.head")]
    case.complete("decide_filing", {"filing_decision": decision, "filing_reasons": reasons})
    assert case.ready() == [("acknowledge_decision", "samr.handler")]
    assert case.data_at("acknowledge_decision")["filing"] == {
        "decision": decision, "reasons": reasons,
    }
    case.complete("acknowledge_decision", {"acknowledged": True})


# --------------------------------------------------------------------------- paths


def test_head_refuses_transfer(collaboration):
    case = Transfer(collaboration)
    assert case.ready() == [("register_facts", "samr.handler")]
    case.complete("register_facts", FACTS)
    data = case.data_at("decide_transfer")
    assert (data["threshold"], data["especially_serious"]) == ("criminal", False)
    assert case.ready() == [("decide_transfer", "samr.head")]
    case.complete("decide_transfer", {"transfer_approved": False, "reasons": "证据尚不充分。"})
    assert case.ready() == []
    workflow = case.load()
    assert workflow.is_completed()
    assert case.finished_at() == {"transfer_refused"}
    # The police pool is started by its message only: a refused transfer never reaches it.
    assert not [t for t in workflow.get_tasks() if side(t) == "police"]


@pytest.mark.parametrize("returns", [1, 3])
def test_liaison_returns_to_head_then_approves(collaboration, returns):
    case = Transfer(collaboration)
    register_and_approve(case, returns=returns)
    police_decides(case, "file", "")
    assert case.load().is_completed()
    assert case.finished_at() == {"transfer_closed", "filing_notified"}
    workflow = case.load()
    assert len([t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "decide_transfer"]) \
        == returns + 1


@pytest.mark.parametrize(
    ("decision", "reasons"),
    [("file", ""), ("not_file", "现有证据不能证明权利人损失达到立案追诉标准。")],
    ids=["file", "not_file"],
)
def test_police_decision_reaches_samr(collaboration, decision, reasons):
    case = Transfer(collaboration)
    register_and_approve(case)
    police_decides(case, decision, reasons)
    workflow = case.load()
    assert workflow.is_completed()
    assert case.ready() == []
    assert case.finished_at() == {"transfer_closed", "filing_notified"}


def test_overdue_steps_escalate_with_ids_and_deadlines_only(collaboration):
    case = Transfer(collaboration, copy_all_form_data=True)
    case.complete("register_facts", FACTS)
    case.fire_timer("decide_transfer_overdue")
    # Non-interrupting: the head still decides while the office supervises.
    assert case.ready() == [("decide_transfer", "samr.head"),
                            ("supervise_transfer_decision", "office.supervisor")]
    assert case.data_at("supervise_transfer_decision")["overdue"] == {
        "case_id": CASE_ID, "task": "decide_transfer", "due_at": DUE_AT}
    case.complete("supervise_transfer_decision", {"note": "已电话督促负责人。"})
    case.complete("decide_transfer", {"transfer_approved": True})
    case.complete("approve_outgoing_handoff", {"handoff_approved": True})
    case.complete("accept_receipt", {"received": True, "receipt_note": "材料齐全"})
    case.fire_timer("review_case_overdue")
    assert case.ready() == [("review_case", "police.handler"),
                            ("review_filing_supervision_clue", "procuratorate.handler")]
    assert case.data_at("review_filing_supervision_clue")["overdue"] == {
        "case_id": CASE_ID, "task": "review_case", "due_at": DUE_AT}
    case.complete("review_filing_supervision_clue", {"note": "已要求公安机关说明情况。"})
    case.complete("review_case", {"recommendation": "file", "opinion": "建议立案"})
    case.complete("decide_filing", {"filing_decision": "file", "filing_reasons": ""})
    case.complete("acknowledge_decision", {"acknowledged": True})
    assert case.load().is_completed()
    assert case.finished_at() == {"transfer_closed", "filing_notified", "decision_supervised",
                                  "clue_reviewed"}


def test_each_overdue_decision_round_is_reported(collaboration):
    # A handoff sent back to the head starts a new decision period with its own timer.
    case = Transfer(collaboration)
    case.complete("register_facts", FACTS)
    case.fire_timer("decide_transfer_overdue")
    case.complete("decide_transfer", {"transfer_approved": True})
    case.complete("approve_outgoing_handoff", {"handoff_approved": False, "comment": "缺清单"})
    case.fire_timer("decide_transfer_overdue")
    assert case.ready() == [("decide_transfer", "samr.head"),
                            ("supervise_transfer_decision", "office.supervisor"),
                            ("supervise_transfer_decision", "office.supervisor")]


def test_only_payloads_cross_even_if_all_form_data_were_copied(collaboration):
    case = Transfer(collaboration, copy_all_form_data=True)
    register_and_approve(case, returns=1)  # summary, party_name... are now SAMR workflow data
    assert "summary" in case.data_at("assess_threshold")
    police_decides(case, "not_file", "不构成犯罪。")  # every step checks both sides
    assert case.load().is_completed()


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
#   -> threshold, especially_serious, first matching rule
F, T = False, True
DMN_CASES = [
    ((2500000, 0, F, F, F), "criminal", True, "rule_loss_especially_serious"),
    ((2499999, 0, F, F, F), "criminal", False, "rule_loss"),
    ((2499999.99, 0, F, F, F), "criminal", False, "rule_loss"),
    ((0, 2500000, F, F, F), "criminal", True, "rule_gain_especially_serious"),
    ((0, 2499999, F, F, F), "criminal", False, "rule_gain"),
    ((100000, 2600000, F, F, F), "criminal", True, "rule_gain_especially_serious"),
    ((300000, 0, F, F, F), "criminal", False, "rule_loss"),
    ((299999.99, 0, F, F, F), "below_threshold", False, "rule_below_threshold"),
    ((0, 300000, F, F, F), "criminal", False, "rule_gain"),
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
    start.set_data(**dict(zip(DMN_INPUTS, inputs)))
    workflow.do_engine_steps()
    assert workflow.is_completed()
    [assess] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "assess"]
    assert assess.data["threshold"] == threshold
    assert assess.data["especially_serious"] is especially_serious
    assert assess.task_spec.dmnEngine.decide(assess)[0].id == rule_id


def test_every_dmn_rule_is_tested():
    rule_ids = {r.get("id") for r in tree(DMN_FILE).iterfind(".//dmn:rule", NS)}
    assert rule_ids == {case[-1] for case in DMN_CASES}


# --------------------------------------------------------------------------- conventions


def test_bpmn_and_dmn_pass_the_spiffworkflow_xsd():
    # The Spiff validator also checks the spiffworkflow:* extension elements.
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parser = SpiffBpmnParser(validator=validator)
        parser.add_bpmn_file(str(BPMN_FILE))
        parser.add_dmn_file(str(DMN_FILE))
        parser.get_collaboration("case_transfer")


def test_user_tasks_follow_the_conventions():
    root = tree(BPMN_FILE).getroot()
    lanes = {
        ref.text: lane.get("name")
        for lane in root.iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    for lane in set(lanes.values()):
        assert re.fullmatch(r"(samr|police|procuratorate|court|office)\."
                            r"(handler|head|liaison|supervisor)", lane)
    user_tasks = root.findall(".//bpmn:userTask", NS)
    assert user_tasks
    for task in user_tasks:
        props = {
            p.get("name"): p.get("value")
            for p in task.iterfind("bpmn:extensionElements/spiffworkflow:properties/"
                                   "spiffworkflow:property", NS)
        }
        assert task.get("id") in lanes
        assert (FORMS / f"{props['form']}.json").is_file(), task.get("id")
        assert re.fullmatch(r"\d+(h|wd|d|m)", props.get("deadline", "1d"))
        assert props.get("handoff", "outgoing") in {"outgoing", "incoming"}
    for event_def in root.iterfind(".//bpmn:messageEventDefinition", NS):
        event = event_def.getparent()
        throwing = "Throw" in event.tag or event.tag.endswith("endEvent")
        extension = "messagePayload" if throwing else "messageVariable"
        assert event_def.find(f"bpmn:extensionElements/spiffworkflow:{extension}", NS) is not None
    for message in root.iterfind("bpmn:message", NS):
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", message.get("name"))  # subject_verbed


def test_forms_are_valid_and_mark_exactly_the_variables_the_diagram_reads():
    root = tree(BPMN_FILE).getroot()
    expressions = [e.text for e in root.iterfind(".//bpmn:conditionExpression", NS)]
    expressions += [e.text for e in root.iterfind(".//spiffworkflow:messagePayload", NS)]
    expressions += [e.text for e in tree(DMN_FILE).iterfind(".//dmn:inputExpression/dmn:text", NS)]
    read = {
        node.id for text in expressions for node in ast.walk(ast.parse(text.strip(), mode="eval"))
        if isinstance(node, ast.Name)
    }
    dmn_outputs = {o.get("name") for o in tree(DMN_FILE).iterfind(".//dmn:output", NS)}
    engine_supplied = {"case_id", "timer_due_at"}  # timer_due_at: set when a timer fires

    form_names = {
        p.get("value") for p in root.iterfind(".//spiffworkflow:property[@name='form']", NS)
    }
    marked = set()
    for name in form_names:
        schema = load_form(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        for prop_name, prop in schema["properties"].items():
            assert re.search(r"[\u4e00-\u9fff]", prop["title"]), (name, prop_name)
            if prop.get("type") == "string" and "oneOf" not in prop:
                assert "maxLength" in prop, (name, prop_name)
            if prop.get("x-variable"):
                marked.add(prop_name)
                # A gateway or payload reading an absent variable fails the step.
                assert prop_name in schema["required"], (name, prop_name)
    assert marked == read - dmn_outputs - engine_supplied


@pytest.mark.parametrize(
    ("form", "data", "valid"),
    [
        ("transfer_decision", {"transfer_approved": False}, False),
        ("transfer_decision", {"transfer_approved": False, "reasons": ""}, False),
        ("transfer_decision", {"transfer_approved": False, "reasons": "证据不足"}, True),
        ("transfer_decision", {"transfer_approved": True}, True),
        ("handoff_approval", {"handoff_approved": False}, False),
        ("handoff_approval", {"handoff_approved": True}, True),
        ("filing_decision", {"filing_decision": "not_file", "filing_reasons": ""}, False),
        ("filing_decision", {"filing_decision": "file", "filing_reasons": ""}, True),
        ("filing_decision", {"filing_decision": "maybe", "filing_reasons": "x"}, False),
        ("receipt", {"received": False}, False),
        ("register_facts", {**FACTS, "loss_amount": -1}, False),
        ("register_facts", {**FACTS, "extra": 1}, False),
    ],
)
def test_form_rules(form, data, valid):
    errors = list(jsonschema.Draft202012Validator(load_form(form)).iter_errors(data))
    assert (not errors) is valid, errors


# --------------------------------------------------------------------------- diagram interchange


def _bounds(shape) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _inside(inner, outer) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _on_border(point, box, tolerance=1.0) -> bool:
    px, py = point
    x, y, w, h = box
    within = x - tolerance <= px <= x + w + tolerance and y - tolerance <= py <= y + h + tolerance
    near = min(abs(px - x), abs(px - x - w), abs(py - y), abs(py - y - h)) <= tolerance
    return within and near


@pytest.fixture(scope="module")
def bpmn_root():
    return tree(BPMN_FILE).getroot()


def test_every_element_has_a_shape_or_edge(bpmn_root):
    processes = bpmn_root.findall("bpmn:process", NS)
    assert {p.get("id") for p in processes} == {"office_supervision", "samr_transfer",
                                                "police_transfer", "procuratorate_supervision"}
    assert all(p.get("isExecutable") == "true" for p in processes)
    [collab] = bpmn_root.findall("bpmn:collaboration", NS)
    assert collab.get("id") == "case_transfer"

    flow_nodes, flows = set(), set()
    for process in processes:
        for child in process:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local in FLOW_NODE_TAGS:
                flow_nodes.add(child.get("id"))
            elif local == "sequenceFlow":
                flows.add(child.get("id"))
            else:
                assert local in {"laneSet", "documentation", "extensionElements"}, local
    participants = {p.get("id") for p in collab.iterfind("bpmn:participant", NS)}
    lanes = {lane.get("id") for lane in bpmn_root.iterfind(".//bpmn:lane", NS)}
    message_flows = {m.get("id") for m in collab.iterfind("bpmn:messageFlow", NS)}
    assert len(message_flows) == 4

    shapes = {s.get("bpmnElement"): s for s in bpmn_root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in bpmn_root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert set(shapes) == participants | lanes | flow_nodes
    assert set(edges) == flows | message_flows
    for element in participants | lanes:
        assert shapes[element].get("isHorizontal") == "true"
    for shape in shapes.values():
        assert shape.find("dc:Bounds", NS) is not None
    for edge in edges.values():
        assert len(edge.findall("di:waypoint", NS)) >= 2

    # Every flow node is in exactly one lane.
    refs = [r.text for r in bpmn_root.iterfind(".//bpmn:lane/bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(flow_nodes)


def test_layout_can_be_drawn(bpmn_root):
    shapes = {s.get("bpmnElement"): _bounds(s)
              for s in bpmn_root.iterfind(".//bpmndi:BPMNShape", NS)}
    order = ["office_pool", "samr_pool", "police_pool", "procuratorate_pool"]
    for upper, lower in itertools.pairwise(order):  # stacked: office, SAMR, police, procuratorate
        assert shapes[upper][1] + shapes[upper][3] <= shapes[lower][1]
    pool_of_process = {p.get("processRef"): shapes[p.get("id")]
                       for p in bpmn_root.iterfind(".//bpmn:participant", NS)}
    attached = {b.get("id"): b.get("attachedToRef") for b in bpmn_root.iterfind(".//bpmn:boundaryEvent", NS)}
    flow_node_boxes = {}
    for process in bpmn_root.iterfind("bpmn:process", NS):
        pool = pool_of_process[process.get("id")]
        lanes = process.findall(".//bpmn:lane", NS)
        for a, b in itertools.combinations(lanes, 2):
            assert not _overlap(shapes[a.get("id")], shapes[b.get("id")])
        for lane in lanes:
            assert _inside(shapes[lane.get("id")], pool)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                assert _inside(shapes[ref.text], shapes[lane.get("id")]), ref.text
                flow_node_boxes[ref.text] = shapes[ref.text]
    for (a, box_a), (b, box_b) in itertools.combinations(flow_node_boxes.items(), 2):
        if attached.get(a) == b or attached.get(b) == a:
            # A boundary event sits on its task's border: its center on the edge, never inside.
            event, task = (box_a, box_b) if a in attached else (box_b, box_a)
            assert _on_border((event[0] + event[2] / 2, event[1] + event[3] / 2), task), (a, b)
            continue
        assert not _overlap(box_a, box_b), (a, b)

    connections = list(bpmn_root.iterfind(".//bpmn:sequenceFlow", NS))
    connections += list(bpmn_root.iterfind(".//bpmn:messageFlow", NS))
    edges = {e.get("bpmnElement"): e for e in bpmn_root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for flow in connections:
        points = [(float(p.get("x")), float(p.get("y")))
                  for p in edges[flow.get("id")].iterfind("di:waypoint", NS)]
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), flow.get("id")
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), flow.get("id")
        # No edge runs through a flow node it does not connect.
        others = [box for node, box in flow_node_boxes.items()
                  if node not in {flow.get("sourceRef"), flow.get("targetRef")}]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            steps = int(max(abs(x2 - x1), abs(y2 - y1)) // 2) + 1
            for i in range(steps + 1):
                px, py = x1 + (x2 - x1) * i / steps, y1 + (y2 - y1) * i / steps
                for x, y, w, h in others:
                    assert not (x < px < x + w and y < py < y + h), flow.get("id")
