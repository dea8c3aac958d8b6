"""The background worker: fires due timers and delivers pending messages, in a loop.

Any number of workers may run against one database (PostgreSQL); each timer and each message is
taken by exactly one of them (engine/timers.py, engine/messages.py).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from .messages import deliver_pending
from .timers import fire_due_timers

log = logging.getLogger(__name__)


@dataclass
class Pass:
    timers: int = 0
    messages: int = 0


def run_once(session: Session, batch: int = 100) -> Pass:
    """One pass: fire what is due, then deliver what is pending (timers can send messages)."""
    done = Pass()
    done.timers = fire_due_timers(session, batch)
    done.messages = deliver_pending(session, batch)
    return done


def drain(session: Session, batch: int = 100) -> Pass:
    """Repeat passes until nothing is due; returns the totals."""
    total = Pass()
    while True:
        done = run_once(session, batch)
        total.timers += done.timers
        total.messages += done.messages
        if done.timers < batch and done.messages < batch:
            return total


def run_forever(factory: sessionmaker, stop: threading.Event, interval: float = 2.0) -> None:
    """Loop until `stop` is set. A failing pass is logged and retried on the next tick, so one
    broken instance does not stop timers and messages of every other case."""
    while not stop.is_set():
        with factory() as session:
            try:
                done = drain(session)
                if done.timers or done.messages:
                    log.info("worker fired %d timers, delivered %d messages", done.timers, done.messages)
            except Exception:
                log.exception("worker pass failed; retrying in %.1f s", interval)
        stop.wait(interval)
