"""What a mechanism's task hook is given and what it declares (engine/mechanisms/hooks.py runs them).

Each mechanism module lists its hooks in `HOOKS` and its form choice sources in `CHOICES`; the
registry in hooks.py joins those tables, so what a diagram may name is written down in one place.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.time.calendar import BusinessCalendar
from models import HumanTask, User


@dataclass
class Completion:
    """What a hook's check sees of one task completion."""

    session: Session
    actor: User
    task: HumanTask
    # The validated form data; a check may change it (it is validated again afterwards).
    data: dict[str, Any]
    # What the diagram's task holds: ids, verdicts, case_id; read-only.
    workflow_data: Mapping[str, Any]
    # The calendar the completing step counts its due times with.
    calendar: BusinessCalendar


@dataclass(frozen=True)
class Term:
    """Words a page shows in its reader's language: the web words `code` from its table for
    `vocabulary` (web/labels.py CONTEXT_CODES) and fills the wording's %(name)s placeholders from
    `args`, wording those that are Terms or enum members in turn. The engine says what to show;
    the web says it in Chinese or English."""

    vocabulary: str
    code: str
    args: Mapping[str, Any] = field(default_factory=dict)


Check = Callable[[Completion], None]
# Lines of (title, value), or (title, value, evidence id) for a line about an evidence item. A title
# is a StrEnum member the web words (web/labels.py CONTEXT_CODES, by the enum's class name); a value
# is the case's own text, a StrEnum member or a Term, a datetime, a list of values, or None for
# "none".
Context = Callable[[Session, User, HumanTask, Mapping[str, Any]], list[tuple]]
# A choice is (value, label): the label is the case's own text or a Term.
ChoiceSource = Callable[[Session, User, HumanTask], Sequence[tuple[Any, str | Term]]]


@dataclass(frozen=True)
class Hook:
    check: Check | None = None
    context: Context | None = None
