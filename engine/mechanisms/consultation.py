"""案情会商 (DOMAIN §5): what the consultation's tasks show of one another.

The questions are written on the convener's proposal and the answers on each invited agency's
answer task; the messages between the pools carry only ids, agencies and the reply period, and
the documents (会商函, 书面意见) carry the text. The task pages show the same text where the
decision needs it:
- `consultation_answer` (an invited agency's written opinion): the topic, the questions and the
  materials of the consultation letter, as the letter sent them;
- `consultation_minutes` (the convener's minutes): the topic and every invited agency's answer,
  or that it has not answered, and what its action items may name; completing it opens the
  items (engine/mechanisms/consultation_actions.py).

`other_agencies` offers the agencies other than the user's own, for forms that name another
agency (whom to invite, whom to hand evidence to): one's own agency is never a choice there.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.mechanisms import consultation_actions
from engine.mechanisms.completion import ChoiceSource, Hook, Term
from engine.runtime.definitions import task_form
from models import Agency, HumanTask, HumanTaskState, User

PROPOSAL_TASK = "propose_consultation"
ANSWER_TASK = "answer_consultation"


class ConsultationLine(StrEnum):
    """The titles of a consultation task's context lines, worded by the task page (web/labels.py)."""

    CONVENER = "convener"
    TOPIC = "topic"
    QUESTIONS = "questions"
    MATERIALS = "materials"


class AnswerState(StrEnum):
    """Where an invited agency's written opinion stands, as the minutes task shows it."""

    NOT_ANSWERED = "not_answered"
    NO_LEGAL_BASIS = "no_legal_basis"


def _proposal(session: Session, instance_id: int) -> HumanTask | None:
    """The proposal the invitation was sent with: the instance's last completed one."""
    return session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == PROPOSAL_TASK,
        HumanTask.state == HumanTaskState.COMPLETED).order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    ).first()


def _questions(session: Session, task: HumanTask) -> list[tuple]:
    proposal = _proposal(session, task.instance_id)
    if proposal is None:
        return []
    asked = proposal.result or {}
    lines: list[tuple] = [(ConsultationLine.CONVENER, proposal.agency.name),
                          (ConsultationLine.TOPIC, asked.get("topic", "")),
                          (ConsultationLine.QUESTIONS, asked.get("questions", ""))]
    if asked.get("materials"):
        lines.append((ConsultationLine.MATERIALS, asked["materials"]))
    return lines


def _answer_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    return _questions(session, task)


def _minutes_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    lines = [line for line in _questions(session, task) if line[0] != ConsultationLine.CONVENER]
    answers = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == task.instance_id, HumanTask.bpmn_id == ANSWER_TASK,
        HumanTask.state != HumanTaskState.CANCELLED).order_by(HumanTask.agency_id, HumanTask.id)).all()
    latest: dict[int, HumanTask] = {}
    for answer in answers:  # a later round's answer of the same agency replaces the earlier
        latest[answer.agency_id] = answer
    for answer in latest.values():
        agency = answer.agency.name
        if answer.state != HumanTaskState.COMPLETED:
            lines.append((Term("Consultation", "answer_of", {"agency": agency}), AnswerState.NOT_ANSWERED))
            continue
        result = answer.result or {}
        lines.append((Term("Consultation", "answer_of", {"agency": agency}), result.get("opinion", "")))
        lines.append((Term("Consultation", "legal_basis_of", {"agency": agency}),
                      result.get("legal_basis") or AnswerState.NO_LEGAL_BASIS))
        if result.get("attendees"):
            lines.append((Term("Consultation", "attendees_of", {"agency": agency}), result["attendees"]))
    return lines + consultation_actions.minutes_context(session, actor, task)


def other_agencies(session: Session, actor: User, task: HumanTask) -> list[tuple[Any, str]]:
    """The agencies the task's form offers for its `other_agencies` field, but the user's own:
    whom a form may name as the other party (never oneself)."""
    own = {agency.code for agency in session.scalars(
        select(Agency).where(Agency.id.in_([m.agency_id for m in actor.memberships])))}
    offered: list[tuple[Any, str]] = []
    for prop in task_form(session, task).get("properties", {}).values():
        if prop.get("x-choices") == "other_agencies":
            options = (prop.get("items") or {}).get("oneOf") if prop.get("type") == "array" else prop.get("oneOf")
            offered += [(o["const"], o.get("title") or o["const"]) for o in options or [] if o["const"] not in own]
    return offered


HOOKS = {
    "consultation_answer": Hook(context=_answer_context),
    "consultation_minutes": Hook(check=consultation_actions.minutes_check, context=_minutes_context),
    **consultation_actions.HOOKS,
}

CHOICES: dict[str, ChoiceSource] = {"other_agencies": other_agencies}
