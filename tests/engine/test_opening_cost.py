"""What opening a case writes, and how: on PostgreSQL the case, its number, its owner and its first
mechanism's instance in one statement (engine/casework/cases.py), the instance's state after its
first steps by one prebuilt UPDATE (engine/runtime/instances.py); the rows and the audit trail as
the unit of work would have left them."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from engine import open_case
from engine.bootstrap import deploy_folder
from engine.casework.cases import TRANSFER, open_case_in
from engine.errors import NotFound
from engine.runtime.instances import load
from engine.runtime.projection import ready_user_tasks
from models import AuditEvent, Case, HumanTask, ProcessInstance, case_chain

# Two mechanisms whose first steps end them: one on a failing script, one at its end event.
_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://liandong.test">
  <bpmn:collaboration id="{key}"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="startable_by" value="samr.handler" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:participant id="p1" processRef="p_{key}" /></bpmn:collaboration>
  <bpmn:process id="p_{key}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="samr.handler"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>run</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s" />
    <bpmn:scriptTask id="run" name="计算"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="run" />
    <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def ending_at_once(session, tmp_path):
    (tmp_path / "forms").mkdir()
    for key, script in (("fails_at_once", "quotient = 100 / 0"), ("ends_at_once", "done = True")):
        (tmp_path / f"{key}.bpmn").write_text(_DIAGRAM.format(key=key, script=script), encoding="utf-8")
    deploy_folder(session, tmp_path)


@pytest.fixture
def sent(session):
    """The SQL statements the session sends (transaction control not counted)."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    yield seen
    event.remove(engine, "before_cursor_execute", before)


def _events(session, case_id):
    return session.scalars(select(AuditEvent.event_type).where(AuditEvent.chain == case_chain(case_id))
                           .order_by(AuditEvent.seq)).all()


def test_an_opened_case_has_its_instance_state_written_once_and_nothing_left_to_flush(session, users, sent, backend):
    opened = open_case(session, users["samr_handler"], "一次写入")
    case, (instance,), (task,) = opened
    # On PostgreSQL the instance is inserted with the case; its state written by one UPDATE either way.
    inserts = [s for s in sent if "INSERT INTO process_instance" in s]
    assert len(inserts) == 1 and ("INSERT INTO case_file" in inserts[0]) == (backend == "postgres")
    assert len([s for s in sent if s.lstrip().startswith("UPDATE process_instance")]) == 1
    assert not session.dirty and not session.new
    assert (instance.version, instance.case_id, instance.started_at) == (2, case.id, case.created_at)
    state = instance.state_json
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert (row.status, row.version, row.error, row.completed_at) == ("running", 2, None, None)
    assert row.state_json == state != "{}"
    assert row.started_by_id == users["samr_handler"].id and row.started_at == case.created_at
    assert session.get(Case, case.id).number == f"LD{case.created_at.year}-{case.id:05d}"
    # The state goes on from its first steps: the task row opened is the workflow's ready task.
    assert [str(ready.id) for ready in ready_user_tasks(load(session, row))] == [task.task_guid]
    assert session.get(HumanTask, task.id).due_at == task.due_at
    assert _events(session, case.id)[:3] == ["case_created", "instance_started", "task_created"]


def test_a_case_with_several_mechanisms_starts_each_after_the_first(session, users, ending_at_once):
    opened = open_case_in(session, users["samr_handler"], "两个机制", "confidential", [TRANSFER, "ends_at_once"])
    session.commit()
    case, (first, second), _tasks = opened
    assert (first.version, second.version, second.status) == (2, 2, "completed")
    session.expire_all()
    rows = session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case.id)
                           .order_by(ProcessInstance.id)).all()
    assert [(r.id, r.status, r.version) for r in rows] == [(first.id, "running", 2), (second.id, "completed", 2)]
    assert rows[1].completed_at is not None
    assert _events(session, case.id) == [
        "case_created", "instance_started", "task_created", "instance_started", "instance_completed"]


def test_a_case_without_mechanisms_is_opened_alone(session, users):
    case, instances, tasks = open_case(session, users["samr_handler"], "暂不启动", mechanisms=[])
    assert (instances, tasks) == ([], [])
    session.expire_all()
    assert [p.agency_id for p in session.get(Case, case.id).participants] == [users["samr_handler"].agency.id]
    assert session.scalars(select(ProcessInstance.id).where(ProcessInstance.case_id == case.id)).all() == []
    assert _events(session, case.id) == ["case_created"]


def test_a_first_step_that_fails_saves_the_instance_in_error(session, users, ending_at_once):
    case, (instance,), tasks = open_case(session, users["samr_handler"], "首步失败", mechanism="fails_at_once")
    assert tasks == []
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert (row.status, row.error["bpmn_id"]) == ("error", "run")
    assert "division by zero" in row.error["message"] and row.state_json != "{}"
    assert _events(session, case.id) == ["case_created", "instance_started", "instance_failed"]


def test_a_mechanism_not_deployed_opens_nothing(session, users):
    with pytest.raises(NotFound, match="no process model 'no_such_mechanism' is deployed"):
        open_case(session, users["samr_handler"], "无此机制", mechanism="no_such_mechanism")
    assert session.scalars(select(Case.id).where(Case.title == "无此机制")).all() == []
