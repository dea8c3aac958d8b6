"""One service call, one transaction."""
from __future__ import annotations

from functools import wraps

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict


def transactional(fn):
    """Commit what `fn` did, or roll all of it back; a lost optimistic-lock race is a Conflict."""

    @wraps(fn)
    def wrapper(session: Session, *args, **kwargs):
        try:
            result = fn(session, *args, **kwargs)
            session.commit()
            return result
        except StaleDataError as exc:
            session.rollback()
            raise Conflict("the case was changed by someone else at the same time; reload and try again") from exc
        except BaseException:
            session.rollback()
            raise

    return wrapper
