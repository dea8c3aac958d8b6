"""Comments people leave on a task for the others working the case in their agency."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Agency, User
from .workflow import HumanTask


class TaskComment(Base):
    """A note on a task. Seen by the users of the agency that wrote it (comments may quote the
    agency's confidential facts), never edited: a correction is a new comment."""

    __tablename__ = "task_comment"
    __table_args__ = (Index("ix_task_comment_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The author's agency when writing: who may read the comment.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    task: Mapped[HumanTask] = relationship()
    author: Mapped[User] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")
