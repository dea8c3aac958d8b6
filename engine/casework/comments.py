"""Comments on tasks: a note for colleagues of the same agency working the case.

A comment may quote what the agency knows of the case, so it is read only by users of the
agency that wrote it who may read the case's content; overseers see that comments exist in
the audit trail (`comment_added`), never their text.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework.tasks import visible_task
from engine.errors import Forbidden, InvalidInput
from engine.runtime.transactions import transactional
from engine.time.clock import now
from models import HumanTask, TaskComment, User

MAX_LENGTH = 4000


def task_comments(session: Session, actor: User, task: HumanTask) -> Sequence[TaskComment]:
    """The task's comments written in the actor's agency, oldest first (none if they may not read them)."""
    if not policy.can_comment(session, actor, task):
        return []
    agency_ids = {m.agency_id for m in actor.memberships}
    return session.scalars(
        select(TaskComment).where(TaskComment.task_id == task.id, TaskComment.agency_id.in_(agency_ids))
        .order_by(TaskComment.id)
    ).all()


@transactional
def add_comment(session: Session, actor: User, task_id: int, body: str) -> TaskComment:
    """Add a comment to a task; InvalidInput names the field when the text is empty or too long."""
    task = visible_task(session, actor, task_id)
    if not policy.can_comment(session, actor, task):
        raise Forbidden(f"comments on task {task_id} are not open to you")
    body = (body or "").strip()
    if not body or len(body) > MAX_LENGTH:
        raise InvalidInput("comment body is empty or too long",
                           {"body": [f"must be 1 to {MAX_LENGTH} characters"]})
    agency = actor.agency
    assert agency is not None  # can_comment: only in an agency of one's own
    comment = TaskComment(task_id=task.id, case_id=task.case_id, author_id=actor.id,
                          agency_id=agency.id, body=body, created_at=now(session))
    session.add(comment)
    session.flush()
    # The audit trail records that a comment was written, not what it says.
    audit.record(session, "comment_added", actor=actor, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"bpmn_id": task.bpmn_id, "title": task.title, "comment_id": comment.id})
    return comment
