"""Withdrawing a consultation's action item (案情会商 落实事项): the convening agency takes back a
task it gave another agency, with its reason, when the consultation's plan changed.

Who may is the policy's (`withdraw_action_item`: the user who recorded the minutes, or a liaison of
their agency). The item must be an open task. Its `consultation_action` instance receives the
message `action_withdrawn`, caught by the interrupting boundary event on `carry_out_action`
(workflows/consultation_action.bpmn): the task row is cancelled (engine/runtime/projection.py,
`task_cancelled`) and the instance ends at 事项已撤回. In the same transaction the item is closed as
`withdrawn` with who, when and the reason (`action_item_withdrawn`), and the responsible agency's
liaisons are told. An instance of a diagram version before the boundary event cannot receive the
message: its item is refused (Conflict), and the responsible agency may still cancel it.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessage
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import policy
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.mechanisms.consultation_actions import MAX_TEXT, close_item
from engine.oversight import notifications
from engine.runtime.instances import advance, load, lock_instance
from engine.runtime.transactions import transactional
from models import Case, ConsultationActionItem, InstanceStatus, User

MESSAGE = "action_withdrawn"
WITHDRAWN = "withdrawn"
# How much of the item's text the responsible agency's notice quotes.
NOTICE_TITLE = 100


def withdrawable(session: Session, actor: User, item: ConsultationActionItem) -> bool:
    """Whether the case page offers the actor the withdrawal of this item: an open task item of
    the actor's convening agency (the engine decides again when it is sent)."""
    return (item.kind == "task" and item.state == "open" and item.instance_id is not None
            and policy.can_withdraw_action_item(session, actor, item))


def _item(session: Session, actor: User, case_id: int, item_id: int) -> ConsultationActionItem:
    """The case's item, for those who may read the case's content (whom the case page shows it);
    NotFound for anyone else, as for an item of another case."""
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, actor, case):
        raise NotFound(f"case {case_id} does not exist")
    item = session.get(ConsultationActionItem, item_id)
    if item is None or item.case_id != case.id or not policy.can_view_case_content(session, actor, case):
        raise NotFound(f"action item {item_id} does not exist in case {case_id}")
    return item


@transactional
def withdraw_item(session: Session, actor: User, case_id: int, item_id: int, reason: str) -> ConsultationActionItem:
    """Withdraw the open task item `item_id` of case `case_id`, with the reason; one transaction.

    Refused: an unknown item or one the actor may not read (NotFound), an actor not of the
    convening agency (Forbidden), no reason or a reason too long (InvalidInput on `reason`), an
    item that is closed, started a mechanism, or runs on a diagram version that cannot be
    withdrawn (Conflict)."""
    item = _item(session, actor, case_id, item_id)
    if not policy.can_withdraw_action_item(session, actor, item):
        raise Forbidden("only the convening agency (the user who recorded the minutes, or its liaisons) "
                        "withdraws an action item")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("reason: required", {"reason": ["required"]})
    if len(reason) > MAX_TEXT:
        raise InvalidInput("reason: too long", {"reason": [f"must be at most {MAX_TEXT} characters"]})
    if item.kind != "task" or item.instance_id is None:
        raise Conflict(f"action item {item.id} started a mechanism: it is not withdrawn, the mechanism runs on its own")
    step = lock_instance(session, item.instance_id)
    # Read again under the instance's lock: the agency's completion of the task locks it too, so
    # what the row says now holds until this transaction ends.
    item = session.scalars(select(ConsultationActionItem).where(ConsultationActionItem.id == item.id)
                           .execution_options(populate_existing=True)).one()
    if item.state != "open" or step.instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"action item {item.id} is already {item.state}: only an open item is withdrawn")
    workflow = load(session, step.instance)
    if not any(event.name == MESSAGE for event in workflow.waiting_events()):
        raise Conflict(f"action item {item.id} runs on an older version of its diagram, which cannot be "
                       "withdrawn: ask the responsible agency to cancel it with your reason")
    # Catch events compare definitions by class too: the dialect's class the diagrams parse to.
    workflow.send_event(BpmnEvent(SpiffMessage(MESSAGE), {"item": item.id}))
    advance(step, workflow, actor)
    close_item(session, actor, item, WITHDRAWN, reason)
    title = item.text if len(item.text) <= NOTICE_TITLE else f"{item.text[:NOTICE_TITLE - 1]}…"
    notifications.agency_notice(session, session.get_one(Case, item.case_id), item.agency_id, "liaison",
                                notifications.ACTION_ITEM_WITHDRAWN, actor, title=title)
    return item
