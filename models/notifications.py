"""In-app notifications (with email as a second channel) and the deadline scan's markers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .people import User
from .workflow import HumanTask

# What happened, for whom (engine/oversight/notifications.py decides the recipients).
NOTIFICATION_KINDS = (
    "task_claimable",   # a task of my lane opened
    "task_assigned",    # a liaison reassigned a task to me
    "task_delegated",   # a liaison delegated an unclaimed task to me
    "handoff_pending",  # a handoff between agencies awaits my approval (liaisons)
    "deadline_soon",    # a task I hold is due within one working day
    "deadline_passed",  # a task is overdue (its holder, their agency's head, supervisors)
    "evidence_damaged",  # an evidence file was found damaged (supervisors, the procuratorate's liaisons)
    "verdict_overridden",  # my verdict on an item was made a rejection: its file failed the hash check
    "result_recorded",  # police, procuratorate or court recorded a result after filing (SAMR)
    "case_copied",      # my agency was copied on a case's transfer letter and observes it (liaisons)
    # What an observing agency is told (liaisons): a non-filing, a reconsideration upholding it,
    # a refused or abandoned transfer, the police's filing deadline missed.
    "non_filing_reported", "non_filing_upheld_reported", "transfer_refused_reported",
    "transfer_abandoned_reported", "filing_overdue_reported",
)


class Notification(Base):
    """One message to one user, written in the transaction of the event that caused it.

    The text is rendered when shown (in the reader's language) from `kind` and `params`. Email
    is an outbox on the same row: `emailed_at` is set once a mail went out; failures count in
    `email_attempts` and wait until `email_retry_at`.
    """

    __tablename__ = "notification"
    __table_args__ = (
        # The header badge: unread of a user.
        Index("ix_notification_recipient_unread", "recipient_id", "read_at"),
        # The notifications page: a user's newest first.
        Index("ix_notification_recipient_newest", "recipient_id", "created_at"),
        # The worker's mail outbox.
        Index("ix_notification_email_pending", "emailed_at", "email_retry_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    # Values the text is made from: task and case titles, case number, due time, actor's name.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_retry_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(Text)

    recipient: Mapped[User] = relationship()
    case: Mapped[Case] = relationship()
    task: Mapped[HumanTask | None] = relationship()


class DeadlineNotice(Base):
    """The deadline scan notified about this (task, kind): the primary key makes it once only,
    however many workers scan at the same time."""

    __tablename__ = "deadline_notice"

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]
