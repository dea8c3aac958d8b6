"""Domain rules of 立案协助 (workflows/case_transfer.bpmn) that the diagram cannot express.

The police's period for deciding whether to file a transferred case (`police_filing_decision`,
3 days from acceptance, Decree 310 art. 8) sits on the head's decision, `decide_filing`, which
opens at acceptance beside the handler's review:

- `extend_review`: the police head extends that period (10 days, or 30 for a complex case,
  counted from acceptance); the decision's due time and its escalation timer move with it, in the
  completion's transaction (engine/runtime/deadlines.py).
- `decide_filing`: the head decides on the handler's review, so the decision is refused while the
  review is open; the task page shows what the handler recommended.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.mechanisms.completion import Completion, Hook
from engine.runtime.deadlines import extend_open_task, extended_due
from models import HumanTask, HumanTaskState, User

REVIEW_TASK = "review_case"
DECISION_TASK = "decide_filing"
RECOMMENDATIONS = {"file": "建议立案", "not_file": "建议不予立案"}


def _step(session: Session, instance_id: int, bpmn_id: str, state: HumanTaskState) -> HumanTask | None:
    """The instance's latest task row of step `bpmn_id` in `state`."""
    return session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.state == state)
        .order_by(HumanTask.id.desc())).first()


def _extend_review(completion: Completion) -> None:
    decision = _step(completion.session, completion.task.instance_id, DECISION_TASK, HumanTaskState.OPEN)
    rule = completion.data["review_period"]
    if decision is None:
        raise InvalidInput("form data is not valid",
                           {"review_period": ["立案决定已经作出，无需延长审查期限"]})
    try:
        due = extended_due(completion.session, completion.calendar, decision, rule)
    except ValueError as exc:
        raise InvalidInput("form data is not valid", {"review_period": [str(exc)]}) from exc
    if decision.due_at is not None and due.at <= decision.due_at:
        raise InvalidInput("form data is not valid",
                           {"review_period": [f"审查期限已为{decision.deadline_rule}，只能延长，不能缩短"]})
    extend_open_task(completion.session, completion.actor, decision, rule,
                     completion.data["extension_reasons"], completion.calendar)


def _decide_filing(completion: Completion) -> None:
    if _step(completion.session, completion.task.instance_id, REVIEW_TASK, HumanTaskState.OPEN) is not None:
        raise InvalidInput("form data is not valid",
                           {"filing_decision": ["承办人尚未提交审查意见，审查完毕后才能决定是否立案"]})


def _review_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    review = _step(session, task.instance_id, REVIEW_TASK, HumanTaskState.COMPLETED)
    if review is None:
        return [("承办人审查意见", "审查中，尚未提交")]
    result = review.result or {}
    recommendation = str(result.get("recommendation", ""))
    return [("承办人审查建议", RECOMMENDATIONS.get(recommendation, recommendation)),
            ("承办人审查意见", str(result.get("opinion", "")))]


HOOKS = {"extend_review": Hook(check=_extend_review),
         "decide_filing": Hook(check=_decide_filing, context=_review_context)}
