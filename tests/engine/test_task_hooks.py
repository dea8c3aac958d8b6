"""Task hooks and engine-offered choices are checked at deploy: a diagram naming a hook or a form
naming a choice source the engine does not have is refused, naming the element."""
from __future__ import annotations

import json

import pytest

from engine import DeployError
from engine.runtime.deploy import read_bundle

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:collaboration id="hooked"><bpmn:participant id="p" processRef="proc" /></bpmn:collaboration>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="samr.handler"><bpmn:flowNodeRef>s</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>pick</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s" />
    <bpmn:userTask id="pick" name="选"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="pick" />HOOK
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="pick" />
    <bpmn:sequenceFlow id="f2" sourceRef="pick" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""


def write(tmp_path, hook: str | None, choices: str):
    (tmp_path / "forms").mkdir(exist_ok=True)
    (tmp_path / "forms" / "pick.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "选", "type": "object",
        "properties": {"ids": {"title": "证据", "type": "array", "items": {"type": "integer"},
                               "x-choices": choices}},
        "additionalProperties": False}), encoding="utf-8")
    prop = f'<spiffworkflow:property name="hook" value="{hook}" />' if hook else ""
    path = tmp_path / "hooked.bpmn"
    path.write_text(BPMN.replace("HOOK", prop), encoding="utf-8")
    return path


def test_known_hooks_and_choices_deploy(tmp_path):
    assert read_bundle(write(tmp_path, "evidence_package", "agency_evidence")).key == "hooked"


@pytest.mark.parametrize(("hook", "choices", "reason"), [
    ("no_such_hook", "agency_evidence", "unknown hook 'no_such_hook'"),
    (None, "no_such_source", "unknown x-choices 'no_such_source'"),
])
def test_unknown_hooks_and_choices_are_refused(tmp_path, hook, choices, reason):
    with pytest.raises(DeployError) as exc:
        read_bundle(write(tmp_path, hook, choices))
    assert reason in exc.value.reason and exc.value.element == "pick"
