"""Every mechanism's reactions to elements a step runs past (engine/runtime/reached.py), joined
in one table and installed in the runtime when this module is imported (engine/__init__.py
imports it), like engine/mechanisms/hooks.py joins the task hooks.

Each mechanism module that has any lists them in `REACTIONS`, by process model key and element id.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.mechanisms import procuratorate
from engine.runtime import reached

REACTIONS: Mapping[str, Mapping[str, reached.Reaction]] = MappingProxyType(
    {key: MappingProxyType(dict(table)) for key, table in procuratorate.REACTIONS.items()})

reached.install(REACTIONS)
