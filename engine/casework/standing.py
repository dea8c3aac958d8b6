"""Standing approvals (常设批准) of hand-offs between agencies.

Every hand-off is approved by a liaison of each agency it leaves or enters (a task with the
`handoff` property). Where an agency decides that one kind of hand-off needs no look of its own
each time — a receipt to acknowledge, a notice to pass on — its liaison grants a standing approval
for that step, with a reason; from then on each such task of the agency is claimed and completed
in that liaison's name as soon as it opens, with the form's yes-answers only, and its
`handoff_approved` event names the standing approval. Only steps whose form asks nothing but
yes-answers can be approved so (engine/casework/handoff_batch.py `approval_data`); a liaison of
the agency revokes it with a reason. Granting and revoking are audited on the system chain.

A completion that opens such a task applies the approval right after it commits (`follow`); the
worker's pass (`apply_pending`) catches every other way a hand-off opens (a message, a timer), and
a task of a grantor who is no longer a liaison there stays in the inbox. Each approval is the
normal claim and completion, in transactions of their own: one that fails leaves the task open.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, bindparam, select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework.handoff_batch import BatchOutcome, approval_data, approve_handoffs
from engine.casework.tasks import claim_task, complete_task, unclaim_task
from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from engine.runtime.definitions import definition, task_form
from engine.runtime.process_models import latest_models
from engine.runtime.projection import OPENED_HANDOFFS, task_properties
from engine.runtime.transactions import transactional
from engine.time.clock import now
from models import Agency, HumanTask, HumanTaskState, ProcessInstance, ProcessModel, StandingApproval, User

log = logging.getLogger(__name__)

MAX_REASON = 1000


@dataclass(frozen=True)
class HandoffStep:
    """A liaison step of one mechanism that an agency may approve standing: its process model key,
    element id and name, and whether it releases (outgoing) or receives (incoming)."""

    process_key: str
    process_name: str
    bpmn_id: str
    name: str
    direction: str


def handoff_steps(session: Session, agency: Agency) -> list[HandoffStep]:
    """The hand-off steps of the newest mechanisms that reach `agency`'s liaisons (their lane, or
    a lane whose agency a variable names) and whose form asks only yes-answers."""
    steps = []
    for model in latest_models(session):
        found = definition(session, model.id)
        spec, subprocess_specs = found.specs()
        for process in (spec, *subprocess_specs.values()):
            for task_spec in process.task_specs.values():
                props = task_properties(task_spec)
                lane = getattr(task_spec, "lane", None) or ""
                code, _, role = lane.partition(".")
                if (not props.get("handoff") or role != "liaison"
                        or (code != agency.code and not props.get("agency_from"))
                        or approval_data(found.form(props.get("form"))) is None):
                    continue
                steps.append(HandoffStep(model.key, model.name, task_spec.bpmn_id,
                                         task_spec.bpmn_name or task_spec.bpmn_id, props["handoff"]))
    return sorted(set(steps), key=lambda step: (step.process_key, step.name, step.bpmn_id))


def standing_approvals(session: Session, actor: User, agency_id: int) -> Sequence[StandingApproval]:
    """The agency's standing approvals, active first, then the revoked ones, newest first."""
    if not policy.can_manage_standing_approvals(actor, agency_id):
        raise Forbidden("only the agency's liaisons manage its standing approvals")
    return session.scalars(
        select(StandingApproval).where(StandingApproval.agency_id == agency_id)
        .order_by(StandingApproval.revoked_at.is_not(None), StandingApproval.granted_at.desc())
    ).all()


def _reason(value: str, field: str) -> str:
    reason = (value or "").strip()
    if not reason:
        raise InvalidInput("reason missing", {field: ["must say why"]})
    if len(reason) > MAX_REASON:
        raise InvalidInput("reason too long", {field: [f"must be at most {MAX_REASON} characters"]})
    return reason


@transactional
def grant_standing_approval(session: Session, actor: User, agency_id: int, process_key: str, bpmn_id: str,
                            reason: str) -> StandingApproval:
    """A liaison of the agency approves this hand-off step standing, from now on, with a reason."""
    if not policy.can_manage_standing_approvals(actor, agency_id):
        raise Forbidden("only the agency's liaisons grant its standing approvals")
    reason = _reason(reason, "reason")
    agency = session.get_one(Agency, agency_id)
    step = next((s for s in handoff_steps(session, agency)
                 if s.process_key == process_key and s.bpmn_id == bpmn_id), None)
    if step is None:
        raise InvalidInput("not a hand-off step", {"step": [
            "must be a hand-off step of the agency's liaisons whose form asks only yes-answers"]})
    if session.scalar(select(StandingApproval.id).where(
            StandingApproval.agency_id == agency_id, StandingApproval.process_key == process_key,
            StandingApproval.bpmn_id == bpmn_id, StandingApproval.revoked_at.is_(None))) is not None:
        raise Conflict("this step already has a standing approval")
    row = StandingApproval(agency_id=agency_id, process_key=process_key, bpmn_id=bpmn_id, step_name=step.name,
                           reason=reason, granted_by_id=actor.id, granted_at=now(session))
    session.add(row)
    session.flush()
    audit.record(session, "standing_approval_granted", actor=actor,
                 detail={"standing_approval_id": row.id, "agency": agency.code, "process_key": process_key,
                         "bpmn_id": bpmn_id, "title": step.name, "reason": reason})
    return row


@transactional
def revoke_standing_approval(session: Session, actor: User, standing_id: int, reason: str) -> StandingApproval:
    """A liaison of the agency ends a standing approval, with a reason; tasks open then wait for a liaison."""
    row = session.get(StandingApproval, standing_id)
    if row is None or not policy.can_manage_standing_approvals(actor, row.agency_id):
        raise NotFound(f"standing approval {standing_id} does not exist")
    if row.revoked_at is not None:
        raise Conflict("this standing approval was revoked already")
    row.revoke_reason = _reason(reason, "revoke_reason")
    row.revoked_at, row.revoked_by_id = now(session), actor.id
    audit.record(session, "standing_approval_revoked", actor=actor,
                 detail={"standing_approval_id": row.id, "agency": row.agency.code, "process_key": row.process_key,
                         "bpmn_id": row.bpmn_id, "title": row.step_name, "reason": row.revoke_reason})
    return row


def _waiting_tasks(among: bool):
    """Open, unclaimed hand-off tasks that an active standing approval of their agency covers,
    opened after it was granted, the first `limit` by id; `among`: only those of `ids`."""
    query = (
        select(HumanTask.id, StandingApproval.id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
        .join(StandingApproval, and_(StandingApproval.agency_id == HumanTask.agency_id,
                                     StandingApproval.process_key == ProcessModel.key,
                                     StandingApproval.bpmn_id == HumanTask.bpmn_id,
                                     StandingApproval.revoked_at.is_(None),
                                     StandingApproval.granted_at <= HumanTask.created_at))
        .where(HumanTask.state == HumanTaskState.OPEN, HumanTask.assignee_id.is_(None),
               HumanTask.handoff.is_not(None))
        .order_by(HumanTask.id).limit(bindparam("limit", type_=Integer))
    )
    return query.where(HumanTask.id.in_(bindparam("ids", expanding=True))) if among else query


# Built once: every completion that opens a hand-off asks (building the query cost more than
# running it).
_WAITING_AMONG, _WAITING = _waiting_tasks(among=True), _waiting_tasks(among=False)


def _approve(session: Session, task_id: int, standing_id: int) -> bool:
    """Approve one task under a standing approval, in its grantor's name; False when it cannot
    be (the grantor left the lane, the form wants more, someone else was first): it stays open."""
    standing = session.get_one(StandingApproval, standing_id)
    grantor = standing.granted_by
    task = session.get_one(HumanTask, task_id)
    data = approval_data(task_form(session, task))
    if not grantor.active or not policy.works_in_lane(grantor, task) or data is None:
        log.info("standing approval %s cannot approve task %s; it waits for a liaison", standing_id, task_id)
        session.commit()  # end the read (nothing was written); a rollback would expire the caller's objects
        return False
    basis = {"id": standing.id, "granted_by": grantor.id, "granted_at": standing.granted_at.isoformat()}
    try:
        claim_task(session, grantor, task_id)
    except EngineError:  # rolled back by the claim's transaction
        return False
    try:
        complete_task(session, grantor, task_id, data, standing=basis)
    except EngineError as exc:  # rolled back by the completion's transaction
        log.warning("standing approval %s could not complete task %s: %s", standing_id, task_id, exc)
        try:
            unclaim_task(session, grantor, task_id)
        except EngineError:
            log.warning("standing approval %s could not release task %s", standing_id, task_id)
        return False
    return True


def follow(session: Session, task_ids: Iterable[int], covered: Sequence[Any] | None = None) -> int:
    """Apply standing approvals to these just-opened tasks (those they cover); how many were approved.
    A task approved so can open the next hand-off: followed in turn. `covered`: which of the tasks
    a standing approval covers (`_WAITING_AMONG`), when the transaction that opened them read it."""
    pending = list(task_ids)
    approved = 0
    while pending:
        rows: Sequence[Any]
        if covered is None:
            rows = session.execute(_WAITING_AMONG, {"ids": pending, "limit": len(pending)}).all()
            # End the read (nothing was written; a rollback would expire the caller's objects): each
            # approval is a transaction of its own.
            session.commit()
        else:
            rows, covered = covered, None
        pending = []
        for task_id, standing_id in rows:
            if _approve(session, task_id, standing_id):
                approved += 1
                pending += opened_handoffs(session)
    return approved


def apply_pending(session: Session, batch: int = 100) -> int:
    """The worker's pass: approve every waiting task a standing approval covers (a hand-off a
    message or a timer opened); how many were approved."""
    rows = session.execute(_WAITING, {"limit": batch}).all()
    session.commit()
    approved = 0
    for task_id, standing_id in rows:
        if _approve(session, task_id, standing_id):
            approved += 1
    return approved


def opened_handoffs(session: Session) -> list[int]:
    """The hand-off tasks the session's last transactions opened (engine/runtime/projection.py
    notes them), forgotten once read."""
    return session.info.pop(OPENED_HANDOFFS, [])



def complete_and_follow(session: Session, actor: User, task_id: int, data: dict[str, Any]) -> HumanTask:
    """`complete_task`, then the standing approvals of the hand-offs it opened (the engine's
    `complete_task` for the pages and the API). Which of them a standing approval covers is read
    in the completion's own transaction: read after it, it would be a transaction of its own (its
    BEGIN, the query and its COMMIT) after every completion that opens a hand-off."""
    found: list[tuple[list[int], Sequence[Any]]] = []

    def look_up(in_completion: Session) -> None:
        found.clear()  # a retried completion looks again
        opened = opened_handoffs(in_completion)
        if opened:
            found.append((opened, in_completion.execute(
                _WAITING_AMONG, {"ids": opened, "limit": len(opened)}).all()))

    task = complete_task(session, actor, task_id, data, then=look_up)
    if found:
        follow(session, *found[0])
    return task


def approve_and_follow(session: Session, actor: User, task_ids: Sequence[int]) -> list[BatchOutcome]:
    """`approve_handoffs`, then the standing approvals of the hand-offs those opened."""
    outcomes = approve_handoffs(session, actor, task_ids)
    opened = opened_handoffs(session)
    if opened:
        follow(session, opened)
    return outcomes
