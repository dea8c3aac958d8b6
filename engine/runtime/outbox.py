"""The outbox: messages a step throws to other instances, written in the sender's transaction.

Inside one collaboration SpiffWorkflow delivers messages itself; only events a workflow could not
deliver internally come out of `get_events()` and land here, as `message` rows the worker delivers
later (engine/worker/messages.py).
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy.orm import Session

from engine.access import audit
from engine.time.clock import now
from models import Message, MessageStatus, ProcessInstance


def queue_outgoing(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[Message]:
    """Move the events the workflow threw outward into outbox rows (caller's transaction)."""
    queued = []
    for event in workflow.get_events():
        if not isinstance(event.event_definition, MessageEventDefinition):
            continue
        message = Message(
            name=event.event_definition.name, case_id=instance.case_id,
            correlation=dict(event.correlations or {}), payload=event.payload,
            source_instance_id=instance.id, status=MessageStatus.PENDING, created_at=now(session),
            available_at=now(session),
        )
        session.add(message)
        session.flush()
        audit.record(session, "message_sent", case_id=instance.case_id, instance_id=instance.id,
                     detail={"message": message.name, "message_id": message.id})
        queued.append(message)
    return queued
