"""Structural rules on a diagram's sequence flows, checked at deploy (docs/bpmn-conventions.md).

Every merge and every split is drawn as a gateway, and no gateway both joins and forks. An
activity or event that takes several incoming flows merges them by a rule the reader has to guess
(it runs once per arriving token, like an exclusive merge, which is wrong for parallel branches),
and one with several outgoing flows splits them without saying whether one path or all are taken.
A gateway that both joins and forks hides which of its two jobs its type describes. Modelling
tools' linters (bpmnlint's no-implicit-split, no-implicit-join, fake-join, no-gateway-join-fork)
flag the same shapes; refusing them here keeps every deployed diagram readable one way.

Boundary events hang on their activity and are not sequence flows: an activity with boundary
events and one outgoing flow is fine.
"""
from __future__ import annotations

from collections import Counter

from lxml import etree

from engine.errors import DeployError

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
ACTIVITIES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
}
EVENTS = {"startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent"}
# Elements whose direct children are a flow of their own (their sequence flows join their nodes).
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}


def check_flows(file: str, tree) -> None:
    """Raise DeployError for the first implicit merge, implicit split or joining-and-forking
    gateway in any process or subprocess of `tree`, naming the element, its line and why."""
    for container in tree.iter(*(f"{{{BPMN}}}{tag}" for tag in CONTAINERS)):
        _check_container(file, container)


def _check_container(file: str, container) -> None:
    incoming: Counter[str] = Counter()
    outgoing: Counter[str] = Counter()
    for flow in container.iterchildren(f"{{{BPMN}}}sequenceFlow"):
        if flow.get("sourceRef"):
            outgoing[flow.get("sourceRef")] += 1
        if flow.get("targetRef"):
            incoming[flow.get("targetRef")] += 1
    for node in container.iterchildren(etree.Element):
        kind = etree.QName(node).localname
        element = node.get("id")
        ins, outs = incoming[element], outgoing[element]
        if reason := _reason(kind, ins, outs):
            raise DeployError(file, reason, element=element, line=node.sourceline)


def _reason(kind: str, ins: int, outs: int) -> str | None:
    """Why a node of this kind with these many incoming and outgoing flows is refused, or None."""
    if kind in GATEWAYS:
        if ins > 1 and outs > 1:
            return (f"{kind} both joins {ins} incoming and splits into {outs} outgoing sequence "
                    "flows: draw a gateway that joins, then a gateway of the same kind that splits")
        return None
    if kind not in ACTIVITIES and kind not in EVENTS:
        return None
    if ins > 1:
        return (f"{kind} merges {ins} incoming sequence flows implicitly: merge them with a gateway "
                "before it (exclusive for alternative paths, parallel to wait for all branches)")
    if outs > 1:
        return (f"{kind} splits into {outs} outgoing sequence flows implicitly: split them with a "
                "gateway after it (exclusive to take one path, parallel to take all)")
    return None
