"""The deploy rules on sequence flows, as a table: every merge and split is a gateway, and no
gateway both joins and forks. Each refused shape names its element, its line and a reason a
modeller can act on; the shapes a modeller should draw instead pass, and so does every diagram the
project deploys."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.errors import DeployError
from engine.runtime.diagram_rules import check_flows

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = sorted([*ROOT.glob("workflows/*.bpmn"), *ROOT.glob("tests/fixtures/**/*.bpmn"),
                   *ROOT.glob("bench/bpmn/*.bpmn")])


def diagram(nodes: str, flows: str, inner: str = "") -> str:
    """A process of `nodes` ("tag:id ...", one element a line) joined by `flows` ("a>b ..."); `inner`
    is the content of a subprocess `sub` when the nodes name one."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">',
             '<bpmn:process id="p" isExecutable="true">']
    for node in nodes.split():
        tag, _, node_id = node.partition(":")
        attached = ' attachedToRef="a"' if tag == "boundaryEvent" else ""
        if tag == "subProcess":
            lines += [f'<bpmn:subProcess id="{node_id}">', inner, "</bpmn:subProcess>"]
        else:
            lines.append(f'<bpmn:{tag} id="{node_id}"{attached} />')
    lines += [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{flow.split(">")[0]}" targetRef="{flow.split(">")[1]}" />'
              for i, flow in enumerate(flows.split())]
    lines += ["</bpmn:process>", "</bpmn:definitions>"]
    return "\n".join(lines)


def sub_flows(nodes: str, flows: str) -> str:
    """Elements inside a subprocess, in the notation of `diagram`."""
    body = diagram(nodes, flows).split("\n")[3:-2]
    return "\n".join(line.replace('id="f', 'id="sf') for line in body)


def check(text: str) -> None:
    check_flows("mechanism.bpmn", etree.fromstring(text.encode("utf-8")).getroottree())


REFUSED = [
    # (a) a gateway that both joins and forks
    pytest.param("startEvent:s parallelGateway:fork task:a task:b exclusiveGateway:g task:c task:d endEvent:e",
                 "s>fork fork>a fork>b a>g b>g g>c g>d c>e d>e2", "g",
                 ("exclusiveGateway", "joins 2", "splits into 2", "gateway that joins"), id="exclusive_join_fork"),
    pytest.param("startEvent:s task:a parallelGateway:g task:b task:c endEvent:e",
                 "s>a a>g b>g g>c g>b", "g", ("parallelGateway", "joins 2", "splits into 2"),
                 id="parallel_join_fork"),
    pytest.param("startEvent:s intermediateThrowEvent:send eventBasedGateway:wait intermediateCatchEvent:m1 "
                 "intermediateCatchEvent:m2 task:again endEvent:e",
                 "s>send send>wait wait>m1 wait>m2 m1>again again>wait m2>e", "wait",
                 ("eventBasedGateway", "joins 2", "splits into 2"), id="event_based_join_fork"),
    pytest.param("startEvent:s inclusiveGateway:g task:a task:b task:c endEvent:e",
                 "s>g c>g g>a g>b a>e b>e2", "g", ("inclusiveGateway", "joins 2"), id="inclusive_join_fork"),
    # (b) an activity or event that merges flows without a gateway
    pytest.param("startEvent:s exclusiveGateway:g task:a task:b userTask:t endEvent:e",
                 "s>g g>a g>b a>t b>t t>e", "t", ("userTask", "merges 2 incoming", "gateway before it",
                                                   "exclusive for alternative paths"), id="task_merges"),
    pytest.param("startEvent:s scriptTask:t exclusiveGateway:again endEvent:e",
                 "s>t t>again again>t again>e", "t", ("scriptTask", "merges 2"), id="loop_back_into_task"),
    pytest.param("startEvent:s parallelGateway:fork task:a task:b intermediateCatchEvent:c endEvent:e",
                 "s>fork fork>a fork>b a>c b>c c>e", "c", ("intermediateCatchEvent", "merges 2",
                                                           "parallel to wait for all"), id="catch_event_merges"),
    pytest.param("startEvent:s exclusiveGateway:g task:a task:b task:c endEvent:e",
                 "s>g g>a g>b g>c a>e b>e c>e", "e", ("endEvent", "merges 3"), id="end_event_merges"),
    pytest.param("startEvent:s callActivity:call task:a endEvent:e", "s>call a>call call>e", "call",
                 ("callActivity", "merges 2"), id="call_activity_merges"),
    # (c) an activity or event that splits without a gateway
    pytest.param("startEvent:s task:t task:a task:b endEvent:e", "s>t t>a t>b a>e b>e2", "t",
                 ("task", "splits into 2 outgoing", "gateway after it", "exclusive to take one path"),
                 id="task_splits"),
    pytest.param("startEvent:s task:a task:b endEvent:e", "s>a s>b a>e b>e2", "s", ("startEvent", "splits into 2"),
                 id="start_event_splits"),
    pytest.param("startEvent:s task:a boundaryEvent:timer task:b task:c endEvent:e",
                 "s>a a>e timer>b timer>c b>e2 c>e3", "timer", ("boundaryEvent", "splits into 2"),
                 id="boundary_event_splits"),
    pytest.param("startEvent:s intermediateThrowEvent:t task:a task:b endEvent:e",
                 "s>t t>a t>b a>e b>e2", "t", ("intermediateThrowEvent", "splits into 2"), id="throw_event_splits"),
]


@pytest.mark.parametrize(("nodes", "flows", "element", "words"), REFUSED)
def test_refused_shapes_name_element_line_and_reason(nodes, flows, element, words):
    text = diagram(nodes, flows)
    with pytest.raises(DeployError) as caught:
        check(text)
    error = caught.value
    assert (error.file, error.element) == ("mechanism.bpmn", element)
    assert error.line == 1 + next(i for i, line in enumerate(text.split("\n")) if f'id="{element}"' in line)
    for word in words:
        assert word in error.reason, (word, error.reason)
    assert f"mechanism.bpmn:{error.line} [{element}]: " in error.message


def test_a_subprocess_is_checked_too():
    inner = sub_flows("startEvent:ss exclusiveGateway:sg task:sa task:sb task:st endEvent:se",
                      "ss>sg sg>sa sg>sb sa>st sb>st st>se")
    text = diagram("startEvent:s subProcess:sub endEvent:e", "s>sub sub>e", inner)
    with pytest.raises(DeployError) as caught:
        check(text)
    assert caught.value.element == "st" and "merges 2" in caught.value.reason


ALLOWED = [
    pytest.param("startEvent:s task:a userTask:b endEvent:e", "s>a a>b b>e", id="sequence"),
    pytest.param("startEvent:s exclusiveGateway:split task:a task:b exclusiveGateway:merge task:c endEvent:e",
                 "s>split split>a split>b a>merge b>merge merge>c c>e", id="exclusive_split_and_merge"),
    pytest.param("startEvent:s parallelGateway:fork task:a task:b parallelGateway:join endEvent:e",
                 "s>fork fork>a fork>b a>join b>join join>e", id="parallel_fork_and_join"),
    pytest.param("startEvent:s inclusiveGateway:split task:a task:b inclusiveGateway:join endEvent:e",
                 "s>split split>a split>b a>join b>join join>e", id="inclusive_split_and_join"),
    pytest.param("startEvent:s intermediateThrowEvent:send exclusiveGateway:merge eventBasedGateway:wait "
                 "intermediateCatchEvent:m1 intermediateCatchEvent:m2 task:again endEvent:e",
                 "s>send send>merge again>merge merge>wait wait>m1 wait>m2 m1>again m2>e",
                 id="merge_then_event_based_split"),
    pytest.param("startEvent:s exclusiveGateway:merge task:t exclusiveGateway:again endEvent:e",
                 "s>merge merge>t t>again again>merge again>e", id="loop_through_a_merge"),
    pytest.param("startEvent:s task:a boundaryEvent:timer boundaryEvent:error task:b endEvent:e endEvent:late "
                 "endEvent:failed", "s>a a>b b>e timer>late error>failed", id="boundary_events_are_attached"),
    pytest.param("startEvent:s exclusiveGateway:g task:a endEvent:e", "s>g g>a a>e", id="pass_through_gateway"),
    pytest.param("task:lonely", "", id="no_flows"),
]


@pytest.mark.parametrize(("nodes", "flows"), ALLOWED)
def test_explicit_gateways_pass(nodes, flows):
    check(diagram(nodes, flows))


def test_a_subprocess_with_gateways_passes():
    inner = sub_flows("startEvent:ss exclusiveGateway:sg task:sa task:sb exclusiveGateway:sm endEvent:se",
                      "ss>sg sg>sa sg>sb sa>sm sb>sm sm>se")
    check(diagram("startEvent:s subProcess:sub endEvent:e", "s>sub sub>e", inner))


@pytest.mark.parametrize("path", DEPLOYED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_diagram_the_project_deploys_passes(path):
    check_flows(str(path), etree.parse(str(path)))
