"""SQL that must be written per database dialect."""
from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_if_absent(session: Session, model, **values) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: create a row unless a concurrent writer already did.
    True if this call created it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, because rowcount is not reliable for this statement on every driver.
    statement = insert(model).values(**values).on_conflict_do_nothing()
    return session.execute(statement.returning(*inspect(model).primary_key)).first() is not None
