"""`liandong audit ...`: verify the audit chains, seal them with the audit key, and write
checkpoints of their heads to a file outside the database (liandong worker writes one daily when
AUDIT_CHECKPOINT_FILE is set)."""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

import engine

from .db import db

group = AppGroup("audit", help="The tamper-evident audit trail.")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(2)


@group.command("verify")
@click.option("--case", "case_id", type=int, help="Only this case's chain.")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file written by `audit checkpoint`: every chain must still hold what it recorded.")
def verify(case_id: int | None, checkpoint_file: Path | None) -> None:
    """Recompute every hash chain; print OK, or each broken chain and event (exit 1)."""
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = engine.read_checkpoint(checkpoint_file.read_text(encoding="utf-8").splitlines())
        except (OSError, ValueError) as exc:
            _fail(f"{checkpoint_file}: {exc}")
    problems = engine.verify_audit(db.session, case_id, checkpoint)
    if not problems:
        click.echo("OK")
        return
    for p in problems:
        where = f"event {p.seq}{f' (id {p.event_id})' if p.event_id else ''}: " if p.seq is not None else ""
        click.echo(f"{p.chain}: {where}{p.reason}")
    raise SystemExit(1)


@group.command("seal")
def seal() -> None:
    """Seal every chain with the audit key (LIANDONG_AUDIT_KEY) from its next event on; run once
    after configuring the key on an installation that had none."""
    try:
        sealed = engine.seal_audit(db.session)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"sealed {len(sealed)} chain(s)")


def write_checkpoint(path: Path, session=None, at: datetime | None = None) -> list[str]:
    """Append a checkpoint of every chain's head to `path` (created 0600 if new); its lines."""
    session = session if session is not None else db.session
    lines = engine.checkpoint_lines(session, at or db.clock.now())
    session.rollback()  # a read: end it, so SQLite's write lock is not held while writing the file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return lines


class DailyCheckpoint:
    """The worker's daily checkpoint: due a day after the last one the file holds."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.last: datetime | None = None
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.startswith(engine.CHECKPOINT_HEADER):
                    self.last = datetime.fromisoformat(line.split()[4])

    def run(self, session, at: datetime) -> bool:
        """Write one if a day has passed since the last; whether it did."""
        if self.last is not None and at - self.last < timedelta(days=1):
            return False
        write_checkpoint(self.path, session, at)
        self.last = at
        return True


@group.command("checkpoint")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mail", "recipients", multiple=True,
              help="Also mail the checkpoint here (MAIL_* settings); repeatable.")
def checkpoint(file: Path, recipients: tuple[str, ...]) -> None:
    """Append every chain's head (name, seq, hash) with the time to FILE, outside the database;
    `audit verify --checkpoint FILE` then detects chains cut short, removed or rewritten."""
    try:
        lines = write_checkpoint(file)
    except OSError as exc:
        _fail(f"{file}: {exc}")
    click.echo(f"{len(lines) - 1} chain head(s) appended to {file}")
    if recipients:
        settings = engine.MailSettings.from_config(current_app.config)
        if not settings.enabled:
            _fail("mail is not switched on (LIANDONG_MAIL_ENABLED=1)")
        message = EmailMessage()
        message["From"], message["To"] = settings.sender, ", ".join(recipients)
        message["Subject"] = f"Liandong audit checkpoint {lines[0].rsplit(' ', 2)[-2]}"
        message.set_content("\n".join(lines) + "\n")
        try:
            engine.deliver_mail(settings, message)
        except OSError as exc:
            _fail(f"mail not sent: {exc}")
        click.echo(f"mailed to {', '.join(recipients)}")
