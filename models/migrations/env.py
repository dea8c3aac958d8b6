"""Alembic's entry point: run the migrations on the connection handed over by
models.migrations.alembic_config (the `liandong db` commands and the tests always give one)."""
from __future__ import annotations

from alembic import context

from models import Base, UTCDateTime


def render_item(type_, obj, autogen_context):
    """Write UTCDateTime as the column type it stores, so a migration never depends on model code
    that may change after it was written."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `liandong db ...` (models.migrations), which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead, on SQLite only.
    render_as_batch=True,
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
