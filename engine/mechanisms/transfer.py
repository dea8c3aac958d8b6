"""Domain rules of 立案协助 (workflows/case_transfer.bpmn) that the diagram cannot express.

`extend_review`: the police head extends the open review of a transferred case (10 days, or 30
for a complex case, counted from acceptance); the review task's due time and its escalation timer
move with it, in the completion's transaction (engine/runtime/deadlines.py).
"""
from __future__ import annotations

from sqlalchemy import select

from engine.errors import InvalidInput
from engine.mechanisms.completion import Completion, Hook
from engine.runtime.deadlines import extend_open_task, extended_due
from models import HumanTask, HumanTaskState

REVIEW_TASK = "review_case"


def _extend_review(completion: Completion) -> None:
    review = completion.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == completion.task.instance_id, HumanTask.bpmn_id == REVIEW_TASK,
        HumanTask.state == HumanTaskState.OPEN))
    rule = completion.data["review_period"]
    if review is None:
        raise InvalidInput("form data is not valid",
                           {"review_period": ["审查已经结束，无需延长审查期限"]})
    if review.due_at is not None and extended_due(completion.calendar, review, rule).at <= review.due_at:
        raise InvalidInput("form data is not valid",
                           {"review_period": [f"审查期限已为{review.deadline_rule}，只能延长，不能缩短"]})
    extend_open_task(completion.session, completion.actor, review, rule,
                     completion.data["extension_reasons"], completion.calendar)


HOOKS = {"extend_review": Hook(check=_extend_review)}
