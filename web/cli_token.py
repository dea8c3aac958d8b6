"""`liandong token ...`: personal API tokens, for an operator setting up another agency's system.

Users make their own on their profile page; both ways are audited the same.
"""
from __future__ import annotations

import click
from flask import current_app
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
@click.option("--days", type=int, default=None, help="How long it works (default and most: API_TOKEN_DAYS).")
def create(username: str, name: str, days: int | None) -> None:
    """Create a token for USERNAME and print it (it is shown only this once)."""
    session = db.session
    most = current_app.config["API_TOKEN_DAYS"]
    try:
        user = engine.find_user(session, username)
        _row, token = engine.create_token(session, user, name, days=most if days is None else days,
                                          max_days=most)
    except engine.InvalidInput as exc:
        _fail("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items()))
    except engine.EngineError as exc:
        _fail(exc.message)
    click.echo(token)


@group.command("list")
@click.argument("username")
def list_tokens(username: str) -> None:
    """The user's tokens (id, name, prefix, created, last used, revoked, expires)."""
    session = db.session
    try:
        user = engine.find_user(session, username)
    except engine.NotFound as exc:
        _fail(exc.message)
    for t in engine.user_tokens(session, user):
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        revoked = t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-"
        click.echo(f"{t.id}\t{t.name}\t{t.prefix}…\t{t.created_at.isoformat(timespec='seconds')}\t{used}\t{revoked}"
                   f"\t{t.expires_at.isoformat(timespec='seconds')}")


@group.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke the token with this id (see `token list`)."""
    try:
        engine.revoke_token(db.session, None, token_id)
    except engine.NotFound as exc:
        _fail(exc.message)
    click.echo(f"revoked token {token_id}")
