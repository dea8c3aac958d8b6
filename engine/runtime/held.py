"""Objects of rows that a statement of our own wrote, as a query would have loaded them.

The ORM's constructor sets each attribute through its events (history, backrefs), which for a
row an INSERT ... RETURNING has just written costs more than the statement did. Here the values
are put in place as loading puts them; `as_loaded` then makes the object detached with them as
its committed state, for the session to take with `add` and nothing to flush. Attributes not
given are read from the database when asked.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class

_Row = TypeVar("_Row")


def with_values(cls: type[_Row], values: Mapping[str, Any]) -> _Row:
    """A new, transient object of the mapped class holding `values` as loaded ones (for a row
    whose primary key is not known yet)."""
    row = manager_of_class(cls).new_instance()
    row.__dict__.update(values)
    return row


def as_loaded(cls: type[_Row], **values: Any) -> _Row:
    """A detached object of the mapped class holding `values` (its primary key among them) as a
    query would have loaded them."""
    row = with_values(cls, values)
    make_transient_to_detached(row)
    return row
