"""Alembic migrations of the schema, run with `liandong db upgrade` (plain Alembic, no ini file).

Every change to models/ comes with a migration in `versions/` (`liandong db revision
--autogenerate -m "what"` writes a draft to review); tests/models/test_migrations.py proves that
upgrading an empty database gives exactly the schema the models describe.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

FOLDER = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for this folder. The connection goes to env.py as an attribute,
    not as a URL option, because ini interpolation would mangle a '%' in a password."""
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has at least one revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision`, in one transaction on PostgreSQL and SQLite."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def create_or_upgrade(engine: Engine) -> str:
    """Bring any database to the head revision; says what it did.

    An empty database is migrated from the first revision. A database created before migrations
    existed (tables but no alembic_version: `liandong init` used create_all) gets its missing
    tables the old way and is stamped at head, so `make run` keeps working on an old instance/.
    """
    from models import Base

    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    if revision is None and tables:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            command.stamp(alembic_config(connection), "head")
        return "adopted"
    before = revision
    upgrade(engine)
    return "unchanged" if before == head_revision() else "upgraded"
