"""`liandong token ...`: personal API tokens, for an operator setting up another agency's system.

Users make their own on their profile page; both ways are audited the same.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

import engine

from .db import db

group = AppGroup("token", help="Personal API tokens.")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(2)


@group.command("create")
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def create(username: str, name: str) -> None:
    """Create a token for USERNAME and print it (it is shown only this once)."""
    session = db.session
    try:
        user = engine.find_user(session, username)
        _row, token = engine.create_token(session, user, name)
    except engine.EngineError as exc:
        _fail(exc.message)
    click.echo(token)


@group.command("list")
@click.argument("username")
def list_tokens(username: str) -> None:
    """The user's tokens (id, name, prefix, created, last used, revoked)."""
    session = db.session
    try:
        user = engine.find_user(session, username)
    except engine.NotFound as exc:
        _fail(exc.message)
    for t in engine.user_tokens(session, user):
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        revoked = t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-"
        click.echo(f"{t.id}\t{t.name}\t{t.prefix}…\t{t.created_at.isoformat(timespec='seconds')}\t{used}\t{revoked}")


@group.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke the token with this id (see `token list`)."""
    try:
        engine.revoke_token(db.session, None, token_id)
    except engine.NotFound as exc:
        _fail(exc.message)
    click.echo(f"revoked token {token_id}")
