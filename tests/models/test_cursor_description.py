"""The PostgreSQL cursor builds `description` when it is first read (models/database.py): the same
columns as psycopg's own cursor gives, None where psycopg's is None, refused once the cursor has
moved on; and SQLAlchemy's results, read the first time a statement runs and from its kept metadata
after that, are what they were."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import make_url

from models import Agency, make_engine, make_session_factory

pytestmark = pytest.mark.postgres

QUERY = "SELECT id, code, name, 1.5::numeric AS share, now() AS at FROM agency ORDER BY id"


@pytest.fixture
def engine(pg_database_url):
    engine = make_engine(pg_database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def cursor(engine):
    """A cursor of the engine's own class, on a connection of the engine's pool."""
    connection = engine.raw_connection()
    yield connection.driver_connection.cursor()
    connection.close()


@pytest.fixture
def plain(pg_database_url):
    """psycopg's own cursor, on a connection of its own."""
    url = make_url(pg_database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        yield connection.cursor()


def _described(description) -> list[tuple]:
    return [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale) for c in description]


def test_the_columns_are_those_psycopg_gives(cursor, plain):
    cursor.execute(QUERY)
    plain.execute(QUERY)
    description = cursor.description
    assert type(description) is not list  # built on first use, not here
    assert len(description) == 5  # its length without building it
    assert _described(description) == _described(plain.description)
    assert [c.name for c in description] == ["id", "code", "name", "share", "at"]
    assert description[-1].name == "at" and [c.name for c in description[1:3]] == ["code", "name"]
    assert [row[:4] for row in cursor.fetchall()] == [row[:4] for row in plain.fetchall()]


@pytest.mark.parametrize("statement", [
    "UPDATE agency SET name = name WHERE code = 'none'",
    "SET LOCAL statement_timeout = 0",
])
def test_a_statement_without_rows_has_none(cursor, plain, statement):
    cursor.execute(statement)
    plain.execute(statement)
    assert plain.description is None
    assert cursor.description is None


def test_a_select_of_no_columns_is_described_as_empty(cursor, plain):
    cursor.execute("SELECT")
    plain.execute("SELECT")
    assert plain.description == []
    description = cursor.description
    assert description is not None and not description and len(description) == 0
    assert description == []


def test_a_description_read_after_the_cursor_moved_on_is_refused(cursor):
    cursor.execute("SELECT id FROM agency")
    used = cursor.description
    assert [c.name for c in used] == ["id"]
    unread = cursor.description
    cursor.execute("SELECT code, name FROM agency")
    assert [c.name for c in used] == ["id"]  # built while it was current: still the first result's
    with pytest.raises(RuntimeError, match="ran another statement or closed"):
        list(unread)
    assert [c.name for c in cursor.description] == ["code", "name"]
    closed = cursor.description
    cursor.close()
    with pytest.raises(RuntimeError):
        closed[0]
    assert cursor.description is None


def test_sqlalchemy_results_first_and_from_kept_metadata(engine):
    statement = select(Agency.id, Agency.code).where(Agency.code == bindparam("code"))
    factory = make_session_factory(engine)
    with factory() as session:
        for code in ("samr", "police", "samr"):  # the first run builds the metadata, the rest keep it
            row = session.execute(statement, {"code": code}).one()
            assert row._mapping["code"] == code and row.code == code
        agencies = session.scalars(select(Agency).order_by(Agency.id)).all()
        assert [a.code for a in session.scalars(select(Agency).order_by(Agency.id))] == [a.code for a in agencies]
        returned = session.execute(text("UPDATE agency SET name = name WHERE code = 'samr' RETURNING id, code"))
        assert returned.keys() == ["id", "code"] and returned.one().code == "samr"
        assert session.execute(text("UPDATE agency SET name = name WHERE code = 'none'")).rowcount == 0
        session.rollback()
