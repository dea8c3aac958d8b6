"""One service call, one transaction: `transaction` (a block) and `transactional` (a function).

Every engine function that changes state uses one of the two, so a change and its audit events
are committed together or not at all, and a failure leaves the database as it was.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import StaleState

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did when it ends, or roll all of it back if it raises. A lost
    optimistic-lock race (another writer saved the instance first) is raised as StaleState."""
    try:
        yield session
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise StaleState("the case was changed by someone else at the same time; reload and try again") from exc
    except BaseException:
        session.rollback()
        raise


def transactional(fn: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """`fn(session, ...)` as one `transaction`."""

    @wraps(fn)
    def wrapper(session: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        with transaction(session):
            return fn(session, *args, **kwargs)

    return wrapper


# Rows read ahead with the instances they belong to (engine/runtime/open_work.py), for the steps those
# instances take in the same transaction: {kind: {instance id: rows}}, each handed out once.
_READ_AHEAD = "_read_ahead"


def read_ahead(session: Session, kind: str, rows_by_instance: dict[int, Any]) -> None:
    """Keep rows read ahead for the current transaction (until it ends or `forget_read_ahead`)."""
    held = session.info.get(_READ_AHEAD)
    if held is None or held[0] is not session.get_transaction():
        held = session.info[_READ_AHEAD] = (session.get_transaction(), {})
    held[1].setdefault(kind, {}).update(rows_by_instance)


def take_read_ahead(session: Session, kind: str, instance_id: int) -> Any | None:
    """The rows of this kind read ahead for the instance in this transaction, once (a second step
    of the instance reads them again: its first step may have changed them); None if none."""
    held = session.info.get(_READ_AHEAD)
    if held is None or held[0] is not session.get_transaction():
        return None
    return held[1].get(kind, {}).pop(instance_id, None)


def forget_read_ahead(session: Session) -> None:
    session.info.pop(_READ_AHEAD, None)
