"""SQL that must be written per database dialect."""
from __future__ import annotations

from sqlalchemy import JSON, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement


def dialect_insert(session: Session):
    """The INSERT construct of the session's database, which knows ON CONFLICT."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def insert_if_absent(session: Session, model, **values) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: create a row unless a concurrent writer already did.
    True if this call created it."""
    # RETURNING, because rowcount is not reliable for this statement on every driver.
    statement = dialect_insert(session)(model).values(**values).on_conflict_do_nothing()
    return session.execute(statement.returning(*inspect(model).primary_key)).first() is not None


def insert_new_rows(session: Session, model, rows: list[dict]) -> None:
    """One INSERT ... ON CONFLICT DO NOTHING for these rows: those whose unique key a row already
    holds are left out."""
    session.execute(dialect_insert(session)(model).values(rows).on_conflict_do_nothing())


class json_rows(FunctionElement):
    """An aggregate: the rows of its columns as a JSON array of arrays (`[]` for none), so a
    statement can read a few small related rows in a column of its own instead of another query."""

    type = JSON()
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw):
    return f"coalesce(json_agg(json_build_array({compiler.process(element.clauses, **kw)})), '[]'::json)"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


class json_array(FunctionElement):
    """A JSON array of its arguments, each a JSON value (`json_rows` of a scalar subquery)."""

    type = JSON()
    inherit_cache = True


@compiles(json_array, "postgresql")
def _json_array_postgresql(element, compiler, **kw):
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


@compiles(json_array, "sqlite")
def _json_array_sqlite(element, compiler, **kw):
    # A subquery's JSON reaches SQLite's json_array as text, which json() makes JSON again.
    return "json_array({})".format(", ".join(f"json({compiler.process(clause, **kw)})" for clause in element.clauses))
