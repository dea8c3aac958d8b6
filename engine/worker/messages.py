"""Delivering messages between instances: the worker takes each outbox row (written in the
sender's step, engine/runtime/outbox.py) and hands it to the instance that waits for it.

Inside one collaboration SpiffWorkflow delivers messages itself; only events a workflow could not
deliver internally come out of `get_events()` and land here. Delivery correlates by message name
and case: to the case's instance waiting for that name, else by starting the mechanism whose start
event catches it.
"""
from __future__ import annotations

from datetime import timedelta

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessage
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine.access import audit
from engine.casework.cases import running_instances, system_duplicate_started
from engine.runtime.instances import advance, load, start_instance
from engine.runtime.open_work import step_of, with_open_work
from engine.runtime.step import Step
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import Case, InstanceStatus, Message, MessageStatus, ProcessInstance, ProcessModel

MAX_ATTEMPTS = 5


def deliver_pending(session: Session, limit: int = 100) -> int:
    """Deliver up to `limit` pending messages, each in its own transaction; return how many."""
    delivered = 0
    for _ in range(limit):
        outcome = deliver_next(session)
        if outcome is None:
            break
        delivered += outcome
    return delivered


def deliver_next(session: Session) -> int | None:
    """Take one pending message and deliver it: 1 delivered, 0 not (retried later), None if none.

    On PostgreSQL the row is taken with FOR UPDATE SKIP LOCKED so parallel workers take different
    rows; on SQLite the write transaction is already exclusive. The status moves from pending in
    the same transaction as the delivery, so a message is delivered once or not at all.
    """

    with transaction(session):
        query = (select(Message)
                 .where(Message.status == MessageStatus.PENDING, Message.available_at <= now(session))
                 .order_by(Message.available_at, Message.id).limit(1)
                 .with_for_update(skip_locked=True))
        message = session.scalar(query)
        if message is None:
            session.rollback()  # an empty poll ends as it always has: nothing to commit
            return None
        target = _waiting_instance(session, message)
        # Catch events compare definitions by class too: use the dialect's class the diagrams parse to.
        event = BpmnEvent(SpiffMessage(message.name), message.payload, message.correlation)
        if target is not None:
            step, workflow = target
            workflow.send_event(event)
            advance(step, workflow, None)
        else:
            model = _starting_model(session, message.name)
            if model is None:
                return _postpone(session, message, f"no instance of case {message.case_id} waits for '{message.name}'")
            case = session.get_one(Case, message.case_id)
            running = running_instances(session, case.id, model.key)
            # The payload is the new instance's first data; a mechanism that opens by waiting
            # for the message (none start, then a catch) also receives it as an event.
            started = start_instance(session, case, model.key, None, {message.name: message.payload})
            if running:
                _duplicate_started(session, message, model.key, started.instance.id, running)
            step, workflow = started.step.again(), started.workflow
            if any(e.name == message.name for e in workflow.waiting_events()):
                workflow.send_event(event)
                advance(step, workflow, None)
        message.status, message.target_instance_id = MessageStatus.DELIVERED, step.instance.id
        message.delivered_at = now(session)
        audit.record(session, "message_delivered", case_id=message.case_id, instance_id=step.instance.id,
                     detail={"message": message.name, "message_id": message.id})
        return 1


def _duplicate_started(session: Session, message: Message, key: str, instance_id: int, running: list[int]) -> None:
    """A message started a second instance of a mechanism still running on the case: no user
    confirms it, so the message and the instance that threw it are its recorded reason."""
    source = session.get(ProcessInstance, message.source_instance_id) if message.source_instance_id else None
    source_key = source.process_model.key if source is not None else None
    sender = f"{source_key} #{source.id}" if source is not None else "another instance"
    system_duplicate_started(
        session, message.case_id, instance_id, key, running,
        f"'{message.name}' from {sender} started {key} while instance {', '.join(map(str, running))} runs",
        message=message.name, message_id=message.id, source_instance_id=message.source_instance_id,
        source_process=source_key)


def _postpone(session: Session, message: Message, reason: str) -> int:
    message.attempts += 1
    message.error = reason
    message.available_at = now(session) + timedelta(seconds=30 * 2 ** message.attempts)
    if message.attempts >= MAX_ATTEMPTS:
        message.status = MessageStatus.FAILED
        audit.record(session, "message_failed", case_id=message.case_id,
                     detail={"message": message.name, "message_id": message.id, "reason": reason})
    return 0


def _waiting_instance(session: Session, message: Message) -> tuple[Step, BpmnWorkflow] | None:
    """The case's running instance (other than the sender) that waits for the message, locked,
    with its loaded workflow."""
    instances = session.execute(with_open_work(
        select(ProcessInstance).where(
            ProcessInstance.case_id == message.case_id, ProcessInstance.status == InstanceStatus.RUNNING,
            ProcessInstance.id != (message.source_instance_id or 0),
        ).options(undefer(ProcessInstance.state_json)).order_by(ProcessInstance.id).with_for_update(of=ProcessInstance)
    )).all()
    for instance, *open_work in instances:
        workflow = load(session, instance)
        if any(e.name == message.name for e in workflow.waiting_events()):
            return step_of(session, instance, *open_work), workflow
    return None


def _starting_model(session: Session, name: str) -> ProcessModel | None:
    seen: set[str] = set()
    for model in session.scalars(select(ProcessModel).order_by(ProcessModel.id.desc())):
        if model.key in seen:
            continue  # only the latest version of each mechanism starts new instances
        seen.add(model.key)
        if name in (model.start_messages or []):
            return model
    return None
