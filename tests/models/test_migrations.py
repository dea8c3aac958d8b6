"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

The test fixtures create their template with metadata.create_all for speed; this test is what
makes that shortcut safe. A model change without its migration fails here, naming the difference.
"""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from models import Base, make_engine
from models.migrations import create_or_upgrade, current_revision, head_revision, upgrade
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """An empty database (no seeded template) on each configured backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    name = f"liandong_mig_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


HOW = "models differ from the migrations: add one (models/migrations/README.md)"


def schema_differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_build_the_models_schema(empty_url):
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert schema_differences(engine) == [], HOW
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(empty_url):
    from alembic import command

    from models.migrations import alembic_config

    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert create_or_upgrade(engine) == "upgraded"
        assert create_or_upgrade(engine) == "unchanged"
        assert schema_differences(engine) == [], HOW
    finally:
        engine.dispose()


def test_a_database_made_before_migrations_is_adopted_at_head(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    try:
        Base.metadata.create_all(engine)
        assert create_or_upgrade(engine) == "adopted"
        assert current_revision(engine) == head_revision()
        assert create_or_upgrade(engine) == "unchanged"
    finally:
        engine.dispose()
