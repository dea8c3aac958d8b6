"""One service call, one transaction: `transaction` (a block) and `transactional` (a function).

Every engine function that changes state uses one of the two, so a change and its audit events
are committed together or not at all, and a failure leaves the database as it was.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

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
