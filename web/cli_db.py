"""`liandong db ...`: the schema's Alembic migrations (models/migrations)."""
from __future__ import annotations

import click
from alembic import command
from flask.cli import AppGroup

from models.migrations import alembic_config, create_or_upgrade, current_revision, head_revision

from .db import db

group = AppGroup("db", help="The database schema (Alembic migrations).")


@group.command("upgrade")
def upgrade() -> None:
    """Migrate the database of DATABASE_URL to the newest revision (safe to repeat)."""
    outcome = create_or_upgrade(db.engine)
    click.echo(f"{outcome}: at revision {current_revision(db.engine)}")


@group.command("current")
def current() -> None:
    """Print the database's revision and the newest one."""
    click.echo(f"database: {current_revision(db.engine) or '(none)'}; newest: {head_revision()}")


@group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
@click.option("--empty", is_flag=True, help="A blank migration instead of one compared with the models.")
def revision(message: str, empty: bool) -> None:
    """Write a draft migration from the difference between the database (at head) and the
    models; review it before committing (models/migrations/README.md)."""
    head = head_revision()
    number = f"{int(head) + 1:04d}" if head and head.isdigit() else None
    with db.engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=not empty,
                         rev_id=number)
