"""`liandong deadlines list` / `due`: the catalog of legal periods, from the console.

Both work on a fresh checkout before `liandong init`: the catalog is a file, and without a
database the calendar counts with the official data alone (said on standard error).
Wrong input exits with status 2 and a message naming what is wrong.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect

from engine import BusinessCalendar, CatalogError, business_calendar, format_due, legal_periods

from .db import db

group = AppGroup("deadlines", help="The catalog of legal periods (workflows/deadlines.toml).")


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(2)


def console_calendar() -> BusinessCalendar:
    """The business calendar with the administrator's entered days, or the official data alone
    (with a note on standard error) when the database has not been created yet."""
    if inspect(db.engine).has_table("calendar_day"):
        return business_calendar(db.session)
    click.echo("note: no database yet (liandong init): counted without administrator-entered days", err=True)
    return BusinessCalendar()


def parse_start(text: str, option: str) -> datetime:
    """An ISO date-time or date (a date alone is the start of that day: a period's start day is not
    counted anyway); without an offset it is local (display) time."""
    try:
        begin = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO date-time or date such as 2026-03-05T09:00+08:00 or 2026-03-05")
    return begin if begin.tzinfo is not None else begin.replace(tzinfo=ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))


def _catalog() -> legal_periods.Catalog:
    try:
        return legal_periods.load_catalog(Path(current_app.config["WORKFLOWS_DIR"]) / legal_periods.CATALOG_FILE)
    except CatalogError as exc:
        fail(str(exc))
        raise  # unreachable


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of rule objects.")
def list_rules(as_json: bool) -> None:
    """Print the catalog: every rule with its period, counting, trigger and statute."""
    catalog = _catalog()
    if as_json:
        click.echo(json.dumps([rule.as_json() for rule in catalog.rules.values()], ensure_ascii=False, indent=2))
        return
    for rule in catalog.rules.values():
        trigger = catalog.events[rule.trigger].title if rule.trigger in catalog.events else "任务到达之时"
        extensions = "".join(f" → {e.period}" for e in rule.extensions)
        click.echo(f"{rule.id}\t{rule.period}{extensions}\t{rule.counting}\t{rule.mechanism}\t"
                   f"{rule.action}\t自{trigger}起\t{rule.statute}")


@group.command("due")
@click.argument("rule_id")
@click.option("--from", "start", required=True, help="When the rule's legal event happened (ISO date or date-time).")
@click.option("--period", default=None, help="One of the rule's extensions instead of its own period, e.g. 30d.")
def due(rule_id: str, start: str, period: str | None) -> None:
    """When RULE_ID's period ends, counted from its legal event (as `liandong calendar due` prints)."""
    catalog = _catalog()
    try:
        rule = catalog.rule(rule_id)
    except KeyError as exc:
        fail(exc.args[0])
    begin = parse_start(start, "--from")
    try:
        found = legal_periods.due(console_calendar(), rule, begin, period)
    except ValueError as exc:
        fail(str(exc))
    click.echo(format_due(found))
