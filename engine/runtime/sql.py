"""SQL that must be written per database dialect."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, bindparam, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

# The INSERT construct of each database we run on, which knows ON CONFLICT, by dialect name.
INSERTS: dict[str, Callable[..., Any]] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def dialect_insert(session: Session):
    """The INSERT construct of the session's database, which knows ON CONFLICT."""
    return INSERTS[session.get_bind().dialect.name]


def per_dialect(build: Callable[[Callable], Any]) -> dict[str, Any]:
    """A statement `build(insert)` makes with each database's INSERT construct, by dialect name:
    built once at import, looked up by `session.get_bind().dialect.name` when run."""
    return {name: build(insert) for name, insert in INSERTS.items()}


def insert_if_absent(session: Session, model, **values) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: create a row unless a concurrent writer already did.
    True if this call created it."""
    # RETURNING, because rowcount is not reliable for this statement on every driver.
    statement = _insert_unless_present(session, model, tuple(values), returning=True)
    return _execute(session, statement, values).first() is not None


def insert_new_rows(session: Session, model, rows: list[dict]) -> None:
    """One INSERT ... ON CONFLICT DO NOTHING for these rows (each with the same columns): those
    whose unique key a row already holds are left out."""
    _execute(session, _insert_unless_present(session, model, tuple(rows[0]), returning=False), rows)


def _execute(session: Session, statement, params):
    # As an INSERT of the mapped class does: what the session holds unwritten goes first (its
    # autoflush), unless the caller turned autoflush off.
    if session.autoflush:
        session.flush()
    return session.execute(statement, params)


# The statements of insert_if_absent and insert_new_rows by database, table and columns: building
# one costs more than running it (SQLAlchemy then finds it compiled in its cache), and each caller
# inserts the same columns every time.
_INSERTS: dict[tuple, Any] = {}


def _insert_unless_present(session: Session, model, columns: tuple[str, ...], returning: bool):
    dialect = session.get_bind().dialect.name
    key = (dialect, model, columns, returning)
    statement = _INSERTS.get(key)
    if statement is None:
        table = inspect(model).local_table
        statement = INSERTS[dialect](table).values(
            {name: bindparam(name, type_=table.c[name].type) for name in columns}).on_conflict_do_nothing()
        if returning:
            statement = statement.returning(*table.primary_key.columns)
        _INSERTS[key] = statement
    return statement


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
