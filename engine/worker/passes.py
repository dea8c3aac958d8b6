"""The background worker: fires due timers, delivers pending messages, notifies near and
passed deadlines and mails notifications, in a loop.

Any number of workers may run against one database (PostgreSQL); each timer, message, deadline
notice and mail is taken by exactly one of them (engine/worker/timers.py, engine/worker/messages.py,
engine/oversight/notifications.py, engine/oversight/notification_mail.py).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, fields

from sqlalchemy.orm import Session, sessionmaker

from engine.casework.standing import apply_pending
from engine.oversight.notification_mail import MailSettings, send_pending
from engine.oversight.notifications import scan_deadlines
from engine.worker.messages import deliver_pending
from engine.worker.timers import fire_due_timers

log = logging.getLogger(__name__)


@dataclass
class Pass:
    timers: int = 0
    messages: int = 0
    notices: int = 0
    emails: int = 0
    approvals: int = 0

    def add(self, other: Pass) -> None:
        """Count another pass into this total."""
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def run_once(session: Session, batch: int = 100, mail: MailSettings | None = None) -> Pass:
    """One pass: fire what is due, deliver what is pending (timers can send messages), notify
    deadlines, approve the hand-offs standing approvals cover (engine/casework/standing.py), then
    mail what those and the other transactions notified (with `mail` on)."""
    done = Pass()
    done.timers = fire_due_timers(session, batch)
    done.messages = deliver_pending(session, batch)
    done.notices = scan_deadlines(session, batch)
    done.approvals = apply_pending(session, batch)
    if mail is not None:
        done.emails = send_pending(session, mail, batch)
    return done


def drain(session: Session, batch: int = 100, mail: MailSettings | None = None) -> Pass:
    """Repeat passes until nothing is due; returns the totals."""
    total = Pass()
    while True:
        done = run_once(session, batch, mail)
        total.add(done)
        if max(done.timers, done.messages, done.notices, done.emails, done.approvals) < batch:
            return total


def run_forever(factory: sessionmaker, stop: threading.Event, interval: float = 2.0,
                mail: MailSettings | None = None) -> None:
    """Loop until `stop` is set. A failing pass is logged and retried on the next tick, so one
    broken instance does not stop timers and messages of every other case."""
    while not stop.is_set():
        with factory() as session:
            try:
                done = drain(session, mail=mail)
                if done.timers or done.messages:
                    log.info("worker fired %d timers, delivered %d messages", done.timers, done.messages)
            except Exception:
                log.exception("worker pass failed; retrying in %.1f s", interval)
        stop.wait(interval)
