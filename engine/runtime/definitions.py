"""What every step needs of a deployed process model, read once per process.

A process model row never changes once written (a changed file deploys as a new row, DESIGN.md),
so its spec, forms and timer rules can be kept in memory for as long as the process runs: a step
reads them from here instead of loading the row, its 100 KB spec and its JSON columns each time,
and gets its spec objects as a copy of ones restored once. The memory is per database (tests and
benchmarks use several in one process, with the same ids).
"""
from __future__ import annotations

import pickle
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.runtime.spiff import Specs, read_specs
from engine.time.legal_periods import LegalEvent, PeriodRule
from models import ProcessModel


@dataclass(frozen=True)
class Definition:
    """The immutable parts of one process model version that running its instances needs."""

    id: int
    key: str
    name: str
    version: str
    spec_json: str
    forms: Mapping[str, Any]
    timer_rules: Mapping[str, str]
    # The legal periods this version was deployed with (engine/runtime/deploy_periods.py).
    period_rules: Mapping[str, PeriodRule] = field(default_factory=lambda: MappingProxyType({}))
    legal_events: Mapping[str, LegalEvent] = field(default_factory=lambda: MappingProxyType({}))
    # {file name: XML} of the DMN tables the diagram calls (what a table says of its version and rows).
    dmn_sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def specs(self) -> Specs:
        """The spec restored, for one workflow (it changes its specs as it runs): a copy of the one
        restored when this definition was first read, which costs half of restoring from JSON."""
        return pickle.loads(self._pickled_specs)

    @cached_property
    def _pickled_specs(self) -> bytes:
        # Pickled here and unpickled here only, in this process: never stored, never received.
        return pickle.dumps(read_specs(self.spec_json), protocol=pickle.HIGHEST_PROTOCOL)

    def form(self, name: str | None) -> Mapping[str, Any]:
        """The JSON Schema of a task's form (shared: read it, never change it); a task without a
        form takes any object."""
        schema = self.forms.get(name or "")
        return _ANY_OBJECT if schema is None else schema


# The form of a task without one (shared as the deployed forms are: never changed).
_ANY_OBJECT: Mapping[str, Any] = {"type": "object"}
_COLUMNS = (ProcessModel.id, ProcessModel.key, ProcessModel.name, ProcessModel.version,
            ProcessModel.spec_json, ProcessModel.forms, ProcessModel.timer_rules, ProcessModel.legal_rules,
            ProcessModel.dmn_sources)
_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def definition(session: Session, model_id: int) -> Definition:
    """The definition of process model `model_id`: from memory, or one query the first time."""
    bind = session.get_bind(ProcessModel)
    with _LOCK:
        known = _KNOWN.setdefault(bind, {})
    found = known.get(model_id)
    if found is None:
        row = session.execute(select(*_COLUMNS).where(ProcessModel.id == model_id)).one_or_none()
        if row is None:
            raise NotFound(f"process model {model_id} does not exist")
        found = known[model_id] = Definition(
            id=row.id, key=row.key, name=row.name, version=row.version, spec_json=row.spec_json,
            forms=MappingProxyType(dict(row.forms or {})),
            timer_rules=MappingProxyType(dict(row.timer_rules or {})),
            period_rules=MappingProxyType({rule_id: PeriodRule.from_json(rule)
                                           for rule_id, rule in (row.legal_rules or {}).get("rules", {}).items()}),
            legal_events=MappingProxyType({event_id: LegalEvent(event_id, **event)
                                           for event_id, event in (row.legal_rules or {}).get("events", {}).items()}),
            dmn_sources=MappingProxyType(dict(row.dmn_sources or {})),
        )
    return found


def task_form(session: Session, task) -> Mapping[str, Any]:
    """The JSON Schema of a human task's form."""
    return definition(session, task.instance.process_model_id).form(task.form_name)
