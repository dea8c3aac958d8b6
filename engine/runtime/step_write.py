"""A completion's two row writes in one statement (PostgreSQL).

A completion changes its task row (completed, by whom, with what) and its instance's row (the new
state, its version; status and error when the step ended or failed it). Left to the commit's
flush they are two UPDATEs; here they are one, the task's a data-modifying CTE of the instance's,
which keeps the optimistic lock: it matches only the version read with the instance's lock
(engine/runtime/instances.py), and otherwise writes nothing and raises StaleState, which rolls the
transaction back for the caller to retry, as the flush's version check does. SQLite has no UPDATE
in a CTE: there the task's UPDATE runs alone and the commit's flush writes the instance.

The session holds both rows as written, not as changed: the task's completion is set on it as
its loaded value (`mark_completed`), and a row changed only in the columns just written is held
again as loaded. A changed object costs the commit's flush its whole unit of work even when
nothing is left to write. Anything else the step changed on these rows is flushed at commit as
before.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, bindparam, update
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from engine.errors import StaleState
from models import HumanTask, HumanTaskState, ProcessInstance

_TASK_COLUMNS = ("state", "completed_at", "completed_by_id", "result")
_INSTANCE_COLUMNS = ("state_json", "status", "completed_at", "error")
# Those a step may have changed on the instance; its state is given to `write_completion`.
_CHANGED_COLUMNS = _INSTANCE_COLUMNS[1:]
_TASK_WRITTEN, _INSTANCE_WRITTEN = frozenset(_TASK_COLUMNS), frozenset((*_INSTANCE_COLUMNS, "version"))
_TASKS, _INSTANCES = HumanTask.__table__, ProcessInstance.__table__


def _bind(table, prefix: str, name: str):
    """A parameter for column `name`; None in a JSON column as SQL NULL, as a row never given a
    value has (no error, no result)."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        column_type = JSON(none_as_null=True)
    return bindparam(f"{prefix}_{name}", type_=column_type)


# Built once: every completion runs one of them.
_WRITE_TASK = (update(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
               .values(**{name: _bind(_TASKS, "task", name) for name in _TASK_COLUMNS}))
_WRITE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("instance_row"), _INSTANCES.c.version == bindparam("read_version"))
    .values(version=bindparam("version"),
            **{name: _bind(_INSTANCES, "instance", name) for name in _INSTANCE_COLUMNS})
    .add_cte(_WRITE_TASK.cte("task_done"))
)


def mark_completed(task: HumanTask, at: datetime, by_id: int, result: dict[str, Any]) -> None:
    """The task as completed, in memory only: `write_completion` writes it (until then the
    session's own reads of the row, engine/runtime/projection.py, see it completed)."""
    for name, value in zip(_TASK_COLUMNS, (HumanTaskState.COMPLETED, at, by_id, result), strict=True):
        set_committed_value(task, name, value)


def write_completion(session: Session, task: HumanTask, instance: ProcessInstance, state_json: str) -> None:
    """Write the task `mark_completed` completed and its instance's new state `state_json` now,
    in one statement on PostgreSQL (on SQLite the task's alone, and the commit's flush the
    instance)."""
    values: dict[str, Any] = {f"task_{name}": getattr(task, name) for name in _TASK_COLUMNS}
    values["task_id"] = task.id
    if session.get_bind().dialect.name != "postgresql":
        instance.state_json = state_json
        with session.no_autoflush:  # else the flush would write the instance now, not at commit
            session.execute(_WRITE_TASK, values)
        _hold_as_written(session, task, _TASK_WRITTEN)
        return
    version = instance.version
    values.update({f"instance_{name}": getattr(instance, name) for name in _CHANGED_COLUMNS},
                  instance_state_json=state_json, instance_row=instance.id, read_version=version,
                  version=version + 1)
    with session.no_autoflush:  # else the flush would write the instance first
        written = cast("CursorResult[Any]", session.execute(_WRITE, values)).rowcount
    if written != 1:
        raise StaleState("the case was changed by someone else at the same time; reload and try again")
    # As loaded: the state is never set on the instance as a change, only as what the row holds.
    set_committed_value(instance, "state_json", state_json)
    set_committed_value(instance, "version", version + 1)
    _hold_as_written(session, task, _TASK_WRITTEN)
    _hold_as_written(session, instance, _INSTANCE_WRITTEN)


def _hold_as_written(session: Session, row: Any, written: frozenset[str]) -> None:
    """If the row's changes are all in these columns, just written: the session holds it again as
    loaded (set_committed_value per attribute would still leave it listed as changed)."""
    state = instance_state(row)
    if state.modified and written.union(state.unmodified).issuperset(state.mapper.attrs.keys()):
        make_transient(row)
        make_transient_to_detached(row)
        session.add(row)
