"""Every mechanism's reactions to elements a step runs past (engine/runtime/reached.py), joined
in one table and installed in the runtime when this module is imported (engine/__init__.py
imports it), like engine/mechanisms/hooks.py joins the task hooks.

Each mechanism module that has any lists them in `REACTIONS`, by process model key and element id.

Why at import and not from a start-up call: importing any engine module runs engine/__init__.py
first, so no process can step an instance without the table, whichever door it came in by (the
app, the worker, the `liandong` commands, the benchmarks, a worker started in a subprocess by a
test). A start-up call would have to be made by each of them, and one that forgot it would run
steps without the procuratorate's copy. `reached.install` replaces the table, so installing again
(a test that installs its own) is harmless.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.mechanisms import procuratorate, transfer
from engine.runtime import reached


def _joined(*tables: Mapping[str, Mapping[str, reached.Reaction]]) -> Mapping[str, Mapping[str, reached.Reaction]]:
    """The mechanisms' tables joined per process model key (two may react to one diagram, and
    to one element: then both reactions run, in the order of the tables)."""
    joined: dict[str, dict[str, reached.Reaction]] = {}
    for table in tables:
        for key, reactions in table.items():
            mine = joined.setdefault(key, {})
            for bpmn_id, reaction in reactions.items():
                mine[bpmn_id] = _both(mine[bpmn_id], reaction) if bpmn_id in mine else reaction
    return MappingProxyType({key: MappingProxyType(reactions) for key, reactions in joined.items()})


def _both(first: reached.Reaction, second: reached.Reaction) -> reached.Reaction:
    def both(element: reached.Reached) -> None:
        first(element)
        second(element)
    return both


REACTIONS: Mapping[str, Mapping[str, reached.Reaction]] = _joined(procuratorate.REACTIONS, transfer.REACTIONS)

reached.install(REACTIONS)
