"""Opening a case answers with everything its first steps made (engine.open_case), so the API's
201 needs no second read: the instance, the tasks opened and the participating agencies."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import open_case
from engine.bootstrap import deploy_folder
from models import CaseParticipant, HumanTask, ProcessInstance

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"

# A mechanism whose first task is another agency's: opening a case with it brings that agency in.
ELSEWHERE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://liandong.test">
  <bpmn:collaboration id="first_elsewhere"><bpmn:participant id="p1" processRef="p_elsewhere" /></bpmn:collaboration>
  <bpmn:process id="p_elsewhere" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l1" name="police.liaison"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>ask</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s" />
    <bpmn:userTask id="ask" name="公安接收"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="form" value="note" /></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ask" />
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""


def _in_database(session, case_id):
    session.expire_all()
    return (
        session.scalars(select(ProcessInstance.id).where(ProcessInstance.case_id == case_id)).all(),
        session.scalars(select(HumanTask.id).where(HumanTask.case_id == case_id).order_by(HumanTask.id)).all(),
        sorted(session.scalars(select(CaseParticipant.agency_id).where(CaseParticipant.case_id == case_id))),
    )


def test_an_opened_case_comes_with_its_instance_and_first_tasks(session, users):
    case, instances, tasks = open_case(session, users["samr_handler"], "开案即答")
    assert [t.bpmn_id for t in tasks] == ["register_facts"] and tasks[0].state == "open"
    assert tasks[0].agency.code == "samr" and tasks[0].case is case
    participants = sorted(p.agency_id for p in case.participants)
    assert ([i.id for i in instances], [t.id for t in tasks], participants) == _in_database(session, case.id)


def test_a_first_task_in_another_agency_shows_that_agency_as_participant(session, users, tmp_path):
    (tmp_path / "first_elsewhere.bpmn").write_text(ELSEWHERE, encoding="utf-8")
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "note.json").write_bytes((FIXTURES / "forms" / "note.json").read_bytes())
    deploy_folder(session, tmp_path)
    case, instances, tasks = open_case(session, users["samr_handler"], "首步在公安", mechanism="first_elsewhere")
    assert [(t.bpmn_id, t.agency.code) for t in tasks] == [("ask", "police")]
    # The police joined by a statement of their own, which has the case's participants read again.
    assert sorted(p.agency.code for p in case.participants) == ["police", "samr"]
    participants = sorted(p.agency_id for p in case.participants)
    assert ([i.id for i in instances], [t.id for t in tasks], participants) == _in_database(session, case.id)
