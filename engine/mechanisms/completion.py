"""What a mechanism's task hook is given and what it declares (engine/mechanisms/hooks.py runs them).

Each mechanism module lists its hooks in `HOOKS` and its form choice sources in `CHOICES`; the
registry in hooks.py joins those tables, so what a diagram may name is written down in one place.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


Check = Callable[[Completion], None]
# Lines of (title, text), or (title, text, evidence id) for a line about an evidence item.
Context = Callable[[Session, User, HumanTask, Mapping[str, Any]], list[tuple]]
ChoiceSource = Callable[[Session, User, HumanTask], list[tuple[Any, str]]]


@dataclass(frozen=True)
class Hook:
    check: Check | None = None
    context: Context | None = None
