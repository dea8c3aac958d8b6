"""Checks every mechanism's diagram must pass, shared by the pure-SpiffWorkflow diagram tests.

They read the BPMN file as XML (no engine code): the conventions of docs/bpmn-conventions.md, forms that
mark exactly the variables the diagram reads, and diagram interchange that a modeller and the case
page can draw (every element placed, nodes inside their lanes, nothing overlapping, edges that start
and end on their nodes and cross no other node).
"""
from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.time.legal_periods import load_catalog
from tests.workflows.diagram_run import FORMS, Run, load_form  # noqa: F401 (Run: one import for tests)

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway",
}
# The district's legal periods: every deadline in a diagram names one of its rules.
CATALOG = load_catalog(WORKFLOWS / "deadlines.toml")
LANE = re.compile(r"(samr|police|procuratorate|court|office)\.(handler|head|liaison|supervisor)")


def parse_collaboration(path: Path, collaboration_id: str, validator=None):
    """(spec, subprocess specs) of a diagram's collaboration, as the engine parses it."""
    parser = SpiffBpmnParser(validator=validator or BpmnValidator())
    parser.add_bpmn_file(str(path))
    return parser.get_collaboration(collaboration_id)


def assert_passes_the_xsd(path: Path, collaboration_id: str) -> None:
    """The file validates against the BPMN schema and SpiffWorkflow's extension schema."""
    for validator in (BpmnValidator(), SPIFF_VALIDATOR):
        parse_collaboration(path, collaboration_id, validator)


def form_accepts(form: str, data: dict) -> bool:
    """Whether the form's schema (with formats checked, as the engine does) accepts the data."""
    validator = jsonschema.Draft202012Validator(load_form(form), format_checker=jsonschema.FormatChecker())
    return not list(validator.iter_errors(data))


def properties(element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in element.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}


# --------------------------------------------------------------------------- conventions


def assert_conventions(root) -> None:
    lanes = {ref.text: lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    for lane in set(lanes.values()):
        assert LANE.fullmatch(lane), lane
    for task in root.iterfind(".//bpmn:userTask", NS):
        props = properties(task)
        assert task.get("id") in lanes
        assert (FORMS / f"{props['form']}.json").is_file(), task.get("id")
        assert props.get("deadline", "transfer_decision") in CATALOG.rules, (task.get("id"), props.get("deadline"))
        assert props.get("handoff", "outgoing") in {"outgoing", "incoming"}
        for name in ("agency_from", "deadline_from", "deadline_used"):
            assert props.get(name, "x").isidentifier(), (task.get("id"), name)
    for event in root.iterfind(".//bpmn:boundaryEvent", NS):
        if event.find("bpmn:timerEventDefinition", NS) is not None:
            assert properties(event)["deadline"] in CATALOG.rules, event.get("id")
    for event_def in root.iterfind(".//bpmn:messageEventDefinition", NS):
        event = event_def.getparent()
        throwing = "Throw" in event.tag or event.tag.endswith("endEvent")
        extension = "messagePayload" if throwing else "messageVariable"
        assert event_def.find(f"bpmn:extensionElements/spiffworkflow:{extension}", NS) is not None
    for task in root.iterfind(".//bpmn:receiveTask", NS):
        assert task.find("bpmn:extensionElements/spiffworkflow:messageVariable", NS) is not None
    for message in root.iterfind("bpmn:message", NS):
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", message.get("name"))  # subject_verbed


def read_variables(root) -> set[str]:
    """Every name that gateway conditions, message payloads, scripts, DMN inputs, document conditions
    and deadline variables read (a comprehension's own loop variable aside)."""
    sources = [e.text for e in root.iterfind(".//bpmn:conditionExpression", NS)]
    sources += [e.text for e in root.iterfind(".//spiffworkflow:messagePayload", NS)]
    sources += [e.text for e in root.iterfind(".//bpmn:script", NS)]
    sources += [text for called in root.iterfind(".//spiffworkflow:calledDecisionId", NS)
                for text in decision_inputs(called.text)]
    for prop in root.iterfind(".//spiffworkflow:property[@name='documents']", NS):
        sources += [part.split(" if ", 1)[1] for part in prop.get("value").split(";") if " if " in part]
    names: set[str] = set()
    for text in sources:
        tree = ast.parse(text.strip())
        loop_variables = {name.id for n in ast.walk(tree) if isinstance(n, ast.comprehension)
                          for name in ast.walk(n.target) if isinstance(name, ast.Name)}  # also `for k, v in`
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} \
            - loop_variables - _script_locals(tree)
    for name in ("deadline_from", "deadline_used", "agency_from"):
        names |= {p.get("value") for p in root.iterfind(f".//spiffworkflow:property[@name='{name}']", NS)}
    # A multi-instance task's output item is read into its output collection when each instance ends.
    names |= {item.get("name") for item in root.iterfind(".//bpmn:outputDataItem", NS)}
    return names - {"len", "dict", "True", "False", "None"}


def _script_locals(tree) -> set[str]:
    """Names a script assigns before it reads them (a value it computes for itself): Python
    evaluates an assignment's value before its targets, and reads statements in order."""
    assigned: set[str] = set()
    read_first: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_Assign(self, node):
            self.visit(node.value)
            for target in node.targets:
                self.visit(target)

        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
            elif node.id not in assigned:
                read_first.add(node.id)

    Visitor().visit(tree)
    return assigned - read_first


def decision_inputs(decision_id: str) -> list[str]:
    """The input expressions of a DMN decision in workflows/ (a business rule task reads them)."""
    dmn = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    for path in WORKFLOWS.glob("*.dmn"):
        for decision in etree.parse(str(path)).iterfind(f"{{{dmn}}}decision"):
            if decision.get("id") == decision_id:
                return [t.text for t in decision.iterfind(f".//{{{dmn}}}inputExpression/{{{dmn}}}text")]
    raise AssertionError(f"no DMN decision '{decision_id}' in {WORKFLOWS}")


def _required_on_a_branch(schema) -> set[str]:
    """Fields an if/then/else (at the top or in allOf) requires on a branch of a condition on a
    field the form always requires, or itself requires on a branch (a question asked only after
    another answer, whose own answer asks for a reason)."""
    found: set[str] = set()
    while True:
        known = set(schema.get("required", [])) | found
        for rule in [schema, *schema.get("allOf", [])]:
            condition = set(rule.get("if", {}).get("properties", {}))
            if condition and condition <= known:
                for branch in ("then", "else"):
                    found |= set(rule.get(branch, {}).get("required", []))
        if set(schema.get("required", [])) | found == known:
            return found


def assert_forms_mark_exactly_what_is_read(root, supplied: set[str]) -> None:
    """x-variable marks the fields the diagram reads; everything else it reads is `supplied`
    (by the engine, a message variable, a script or a multi-instance element)."""
    forms = {p.get("value") for p in root.iterfind(".//spiffworkflow:property[@name='form']", NS)}
    marked = set()
    for name in forms:
        schema = load_form(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert re.search(r"[\u4e00-\u9fff]", schema["title"]), name
        for prop_name, prop in schema["properties"].items():
            assert re.search(r"[\u4e00-\u9fff]", prop["title"]), (name, prop_name)
            if prop.get("type") == "string" and "oneOf" not in prop and "format" not in prop:
                assert "maxLength" in prop, (name, prop_name)
            if prop.get("x-variable"):
                marked.add(prop_name)
                # A gateway or payload reading an absent variable fails the step: required, or
                # required on the branch of a required field's answer that leads to the reading
                # (the package's items when it is submitted, not when the handler withdraws).
                assert prop_name in schema["required"] or prop_name in _required_on_a_branch(schema), \
                    (name, prop_name)
    assert marked == read_variables(root) - supplied, (marked, read_variables(root) - supplied)


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


def assert_every_element_is_drawn(root, collaboration_id: str, processes: set[str]) -> None:
    found = root.findall("bpmn:process", NS)
    assert {p.get("id") for p in found} == processes
    assert all(p.get("isExecutable") == "true" for p in found)
    [collab] = root.findall("bpmn:collaboration", NS)
    assert collab.get("id") == collaboration_id
    flow_nodes, flows = set(), set()
    for process in found:
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
    lanes = {lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)}
    message_flows = {m.get("id") for m in collab.iterfind("bpmn:messageFlow", NS)}
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert set(shapes) == participants | lanes | flow_nodes
    assert set(edges) == flows | message_flows
    for element in participants | lanes:
        assert shapes[element].get("isHorizontal") == "true"
    for shape in shapes.values():
        assert shape.find("dc:Bounds", NS) is not None
    for edge in edges.values():
        assert len(edge.findall("di:waypoint", NS)) >= 2
    refs = [r.text for r in root.iterfind(".//bpmn:lane/bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(flow_nodes), "every flow node in exactly one lane"
    # Every message flow in the collaboration joins two pools and names its message.
    pool_of = {ref.text: process.get("id") for process in found
               for ref in process.iterfind(".//bpmn:flowNodeRef", NS)}
    for flow in collab.iterfind("bpmn:messageFlow", NS):
        assert pool_of[flow.get("sourceRef")] != pool_of[flow.get("targetRef")], flow.get("id")
        assert flow.get("messageRef"), flow.get("id")


def assert_layout_can_be_drawn(root, pool_order: list[str]) -> None:
    shapes = {s.get("bpmnElement"): _bounds(s) for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    for upper, lower in itertools.pairwise(pool_order):
        assert shapes[upper][1] + shapes[upper][3] <= shapes[lower][1]
    pool_of_process = {p.get("processRef"): shapes[p.get("id")] for p in root.iterfind(".//bpmn:participant", NS)}
    attached = {b.get("id"): b.get("attachedToRef") for b in root.iterfind(".//bpmn:boundaryEvent", NS)}
    boxes = {}
    for process in root.iterfind("bpmn:process", NS):
        pool = pool_of_process[process.get("id")]
        lanes = process.findall(".//bpmn:lane", NS)
        for a, b in itertools.combinations(lanes, 2):
            assert not _overlap(shapes[a.get("id")], shapes[b.get("id")])
        for lane in lanes:
            assert _inside(shapes[lane.get("id")], pool)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                assert _inside(shapes[ref.text], shapes[lane.get("id")]), ref.text
                boxes[ref.text] = shapes[ref.text]
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        if attached.get(a) == b or attached.get(b) == a:
            # A boundary event sits on its task's border: its centre on the edge, never inside.
            event, task = (box_a, box_b) if a in attached else (box_b, box_a)
            assert _on_border((event[0] + event[2] / 2, event[1] + event[3] / 2), task), (a, b)
            continue
        assert not _overlap(box_a, box_b), (a, b)
    connections = list(root.iterfind(".//bpmn:sequenceFlow", NS)) + list(root.iterfind(".//bpmn:messageFlow", NS))
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for flow in connections:
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges[flow.get("id")].iterfind("di:waypoint", NS)]
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), flow.get("id")
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), flow.get("id")
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, f"{flow.get('id')}: edges run straight across and down"
        # No edge runs through a flow node it does not connect.
        others = [box for node, box in boxes.items() if node not in {flow.get("sourceRef"), flow.get("targetRef")}]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            steps = int(max(abs(x2 - x1), abs(y2 - y1)) // 2) + 1
            for i in range(steps + 1):
                px, py = x1 + (x2 - x1) * i / steps, y1 + (y2 - y1) * i / steps
                for x, y, w, h in others:
                    assert not (x < px < x + w and y < py < y + h), flow.get("id")
