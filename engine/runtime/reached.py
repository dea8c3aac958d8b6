"""Reactions to elements a step runs past: what the engine does beyond a diagram where no user
completes anything, so no task hook can hold it (a message thrown, an end event reached, a
deadline's timer fired).

`advance` (engine/runtime/instances.py) asks `watched` which elements of the instance's mechanism
have a reaction, collects those its engine steps run, with their data as they were run, and
hands them to `react` in the step's transaction, after the step's task rows are written.

The reactions are domain rules and live with the mechanisms, above the runtime, so they are
handed down rather than imported: engine/mechanisms/reactions.py installs its table when the
engine is imported (engine/__init__.py), as the mechanisms add their document builders.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from models import ProcessInstance, User


@dataclass(frozen=True)
class Reached:
    """What a reaction sees of one element a step ran past."""

    session: Session
    instance: ProcessInstance
    bpmn_id: str
    # The element's data as it was run: ids, decisions and agency codes (read-only).
    data: Mapping[str, Any]
    # Whose action caused the step; None for the worker's (a timer, a message).
    actor: User | None


Reaction = Callable[[Reached], None]
_NONE: Mapping[str, Reaction] = MappingProxyType({})
# {process model key: {element id: reaction}}
_INSTALLED: dict[str, Mapping[str, Reaction]] = {}


def install(table: Mapping[str, Mapping[str, Reaction]]) -> None:
    """Set the reactions by process model key and element id (the mechanisms' joined table)."""
    _INSTALLED.clear()
    _INSTALLED.update({key: MappingProxyType(dict(reactions)) for key, reactions in table.items()})


def watched(key: str) -> Mapping[str, Reaction]:
    """The reactions to elements of mechanism `key`, by element id (empty for most mechanisms)."""
    return _INSTALLED.get(key, _NONE)


def react(session: Session, instance: ProcessInstance, key: str, passed: list[tuple[str, dict]],
          actor: User | None) -> None:
    """Run the reactions to the elements a step ran past, in the order it ran them (caller's
    transaction). `passed`: (element id, the element's data) pairs."""
    table = watched(key)
    for bpmn_id, data in passed:
        table[bpmn_id](Reached(session, instance, bpmn_id, data, actor))
