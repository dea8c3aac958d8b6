"""Messages between instances through the outbox, and instances stopped by a script error."""
from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select

from engine import Forbidden, claim_task, complete_task, create_case, deliver_pending, retry_instance
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from models import Message, ProcessInstance
from tests.helpers import act, event_types, open_task, open_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"


@pytest.fixture
def fixtures_deployed(session):
    deploy_folder(session, FIXTURES)


def instances(session, case_id):
    return session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                           .order_by(ProcessInstance.id).execution_options(populate_existing=True)).all()


def test_message_starts_another_mechanism_and_its_reply_wakes_the_sender(session, users, fixtures_deployed):
    handler = users["samr_handler"]
    case = create_case(session, handler, "跨流程消息")
    sender = start_mechanism(session, handler, case.id, "message_sender")
    act(session, handler, case.id, "ask", {"note": "请公安提供意见", "divisor": 4})

    message = session.scalars(select(Message)).one()
    assert (message.name, message.status, message.payload) == (
        "opinion_requested", "pending", {"case_id": case.id, "divisor": 4})
    assert [i.process_model.key for i in instances(session, case.id)] == ["case_transfer", "message_sender"]

    assert deliver_pending(session) == 1
    receiver = instances(session, case.id)[-1]
    assert receiver.process_model.key == "message_receiver"
    answer = open_task(session, case.id, "answer")
    assert answer.lane == "police.handler"

    act(session, users["police_handler"], case.id, "answer", {"note": "同意"})
    assert deliver_pending(session) == 1
    assert deliver_pending(session) == 0, "each message is delivered once"
    read = open_task(session, case.id, "read")
    assert read.instance_id == sender.id
    statuses = {m.name: m.status for m in session.scalars(select(Message).execution_options(populate_existing=True))}
    assert statuses == {"opinion_requested": "delivered", "opinion_given": "delivered"}
    events = event_types(session, case.id)
    assert events.count("message_sent") == 2 and events.count("message_delivered") == 2


def test_message_nobody_waits_for_is_retried_then_failed(session, users, fixtures_deployed, clock):
    from engine.worker import messages as outbox
    from engine.worker.messages import MAX_ATTEMPTS

    handler = users["samr_handler"]
    case = create_case(session, handler, "无人接收")
    start_mechanism(session, handler, case.id, "message_sender")
    act(session, handler, case.id, "ask", {"divisor": 1})
    deliver_pending(session)
    act(session, users["police_handler"], case.id, "answer", {})
    deliver_pending(session)
    # Finish the sender so that no instance waits for a second reply, then forge one.
    act(session, handler, case.id, "read", {})
    stray = Message(name="opinion_given", case_id=case.id, correlation={}, payload={},
                    status="pending", created_at=clock.now(), available_at=clock.now())
    session.add(stray)
    session.commit()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert outbox.deliver_next(session) == 0
        session.refresh(stray)
        assert stray.attempts == attempt and "waits for 'opinion_given'" in stray.error
        assert outbox.deliver_next(session) is None, "not retried before its back-off ends"
        clock.advance(hours=2)
    assert stray.status == "failed"
    assert "message_failed" in event_types(session, case.id)


def test_script_error_stops_the_instance_and_an_admin_retries(session, users, fixtures_deployed):
    handler = users["samr_handler"]
    case = create_case(session, handler, "脚本错误")
    instance = start_mechanism(session, handler, case.id, "script_error")
    task = act(session, handler, case.id, "ask", {"divisor": 0})
    assert task.state == "completed", "the user's completion is kept"
    session.refresh(instance)
    assert instance.status == "error"
    assert instance.error["bpmn_id"] == "divide"
    assert "division by zero" in instance.error["message"]
    assert "instance_failed" in event_types(session, case.id)
    assert [t.bpmn_id for t in open_tasks(session, case.id) if t.instance_id == instance.id] == []

    with pytest.raises(Forbidden):
        retry_instance(session, handler, instance.id)
    # Still failing: the retry records the error again.
    retry_instance(session, users["admin"], instance.id)
    session.refresh(instance)
    assert instance.status == "error"
    # The cause fixed (here: the variable the script divides by), the retry runs on.
    retry_instance(session, users["admin"], instance.id, {"divisor": 5})
    session.refresh(instance)
    assert instance.status == "running" and instance.error is None
    after = open_task(session, case.id, "after")
    claim_task(session, handler, after.id)
    complete_task(session, handler, after.id, {})
    session.refresh(instance)
    assert instance.status == "completed"


def test_started_by_starts_a_mechanism_at_its_normal_start_with_the_payload(session, users, fixtures_deployed, clock):
    from engine.runtime.instances import load

    case = create_case(session, users["samr_handler"], "由消息启动")
    session.add(Message(name="opinion_requested_again", case_id=case.id, correlation={},
                        payload={"case_id": case.id, "topic": "会商意见"}, status="pending",
                        created_at=clock.now(), available_at=clock.now()))
    session.commit()
    assert deliver_pending(session) == 1
    started = instances(session, case.id)[-1]
    assert started.process_model.key == "started_by_message"
    handle = open_task(session, case.id, "handle")
    assert handle.lane == "court.handler"
    task = load(session, started).get_task_from_id(UUID(handle.task_guid))
    assert task.data["opinion_requested_again"] == {"case_id": case.id, "topic": "会商意见"}


def test_only_the_lanes_a_diagram_names_may_start_it(session, users, fixtures_deployed):
    from engine import Forbidden as Refused
    from engine import startable_mechanisms

    case = create_case(session, users["samr_handler"], "启动权限")
    assert "script_error" in {m.key for m in startable_mechanisms(session, users["samr_handler"], case)}
    assert startable_mechanisms(session, users["samr_head"], case) == []
    with pytest.raises(Refused):
        start_mechanism(session, users["samr_head"], case.id, "script_error")
    instance = start_mechanism(session, users["samr_handler"], case.id, "script_error")
    from engine.runtime.instances import load

    data = load(session, instance).get_tasks()[0].data
    assert data["initiator_agency"] == "samr"
