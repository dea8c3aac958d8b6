"""`liandong calendar set-day` / `list`: the administrator's entered days, from the console.

Each edit is one engine transaction audited on the system chain with no user (the operator at
the console), like `users add`. Errors the operator must fix exit with status 2.
"""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from engine import InvalidInput, NotFound, calendar_days, clear_calendar_day, set_calendar_day

from .db import db


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(2)


def _describe(working: bool, note: str) -> str:
    kind = "working day" if working else "rest day"
    return f"{kind} ({note})" if note else kind


@click.command("set-day")
@click.argument("day")
@click.option("--working/--rest", "working", default=None,
              help="Enter DAY as a working day (e.g. a swapped 调休 Saturday) or a rest day (a holiday).")
@click.option("--clear", is_flag=True, help="Remove the entered day; the official data applies again.")
@click.option("--note", default="", help="Why, e.g. 元旦 or 春节调休 (at most 200 characters).")
@with_appcontext
def set_day(day: str, working: bool | None, clear: bool, note: str) -> None:
    """Enter DAY (YYYY-MM-DD) into the business calendar, or --clear it."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        _fail(f"{day!r} is not a date such as 2027-01-01")
    if clear == (working is not None):
        _fail("give exactly one of --working, --rest or --clear")
    try:
        if clear:
            clear_calendar_day(db.session, None, parsed)
            click.echo(f"{parsed.isoformat()}: cleared")
        else:
            row = set_calendar_day(db.session, None, parsed, working, note)
            click.echo(f"{parsed.isoformat()}: {_describe(row.working, row.note)}")
    except InvalidInput as exc:
        _fail("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items()))
    except NotFound as exc:
        _fail(exc.message)


@click.command("list")
@with_appcontext
def list_days() -> None:
    """Print the entered days, one per line: date, kind, note."""
    for row in calendar_days(db.session, None):
        click.echo(f"{row.day.isoformat()}: {_describe(row.working, row.note)}")


COMMANDS = (set_day, list_days)
