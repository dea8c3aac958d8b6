"""A completion's two row writes in one statement (PostgreSQL).

A completion changes its task row (completed, by whom, with what) and its instance's row (the new
state, its version; status and error when the step ended or failed it). Left to the commit's
flush they are two UPDATEs; here they are one, the task's a data-modifying CTE of the instance's,
which keeps the optimistic lock: it matches only the version read with the instance's lock
(engine/runtime/instances.py), and otherwise writes nothing and raises StaleState, which rolls the
transaction back for the caller to retry, as the flush's version check does. Anything else the
step changed on these rows is flushed at commit as before. SQLite has no UPDATE in a CTE: there
the flush writes both.
"""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import JSON, CursorResult, bindparam, update
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine.errors import StaleState
from models import HumanTask, ProcessInstance

_TASK_COLUMNS = ("state", "completed_at", "completed_by_id", "result")
_INSTANCE_COLUMNS = ("state_json", "status", "completed_at", "error")
_TASKS, _INSTANCES = HumanTask.__table__, ProcessInstance.__table__


def _bind(table, prefix: str, name: str):
    """A parameter for column `name`; None in a JSON column as SQL NULL, as a row never given a
    value has (no error, no result)."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        column_type = JSON(none_as_null=True)
    return bindparam(f"{prefix}_{name}", type_=column_type)


# Built once: every completion runs it.
_WRITE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("instance_row"), _INSTANCES.c.version == bindparam("read_version"))
    .values(version=bindparam("version"),
            **{name: _bind(_INSTANCES, "instance", name) for name in _INSTANCE_COLUMNS})
    .add_cte(update(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
             .values(**{name: _bind(_TASKS, "task", name) for name in _TASK_COLUMNS})
             .cte("task_done"))
)


def write_completion(session: Session, task: HumanTask, instance: ProcessInstance) -> None:
    """Write the completed task and its instance's new state now, in one statement on PostgreSQL
    (on SQLite the commit's flush does)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    version = instance.version
    values: dict[str, Any] = {"instance_row": instance.id, "read_version": version, "version": version + 1,
                              "task_id": task.id}
    values.update({f"instance_{name}": getattr(instance, name) for name in _INSTANCE_COLUMNS})
    values.update({f"task_{name}": getattr(task, name) for name in _TASK_COLUMNS})
    with session.no_autoflush:  # else the flush would write both rows first
        written = cast("CursorResult[Any]", session.execute(_WRITE, values)).rowcount
    if written != 1:
        raise StaleState("the case was changed by someone else at the same time; reload and try again")
    set_committed_value(instance, "version", version + 1)
    # The rows as written: the session holds both as loaded and unchanged, so the commit's flush
    # has nothing of theirs to compare and write (the per-attribute set_committed_value would
    # still leave them listed as modified, and the flush would walk its whole unit of work).
    for row in (task, instance):
        make_transient(row)
        make_transient_to_detached(row)
        session.add(row)
