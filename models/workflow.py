"""Process models, their running instances, human tasks and the message outbox."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .people import Agency, User


# The states of the rows below. The columns stay String: a StrEnum member is its value, so it
# compares equal to what the database returns and binds as that same string.
class InstanceStatus(StrEnum):
    """A process instance's status."""

    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELLED = "cancelled"


class HumanTaskState(StrEnum):
    """A human task row's state (not SpiffWorkflow's TaskState); an open task is claimed when
    it has an assignee."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MessageStatus(StrEnum):
    """An outbox message's status."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class TimerStatus(StrEnum):
    """A timer row's status."""

    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class ProcessModel(Base):
    """One deployed version of a mechanism: the BPMN file, its DMN tables and its forms.

    Immutable once written. `version` is the SHA-256 of everything that defines behaviour, so the
    same files deploy to the same row and a changed file makes a new one.
    """

    __tablename__ = "process_model"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    collaboration_id: Mapped[str] = mapped_column(String(200))
    # The sources are read only to draw the diagram and to redeploy: deferred, so the many loads
    # of a model for a step (spec, forms) do not fetch and decode them.
    bpmn_source: Mapped[str] = mapped_column(Text, deferred=True)
    # {file name: XML} of the DMN tables the diagram calls.
    dmn_sources: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, deferred=True)
    # {form name: JSON Schema} of the forms the diagram's user tasks name.
    forms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {timer event bpmn id: deadline rule}: the engine, not SpiffWorkflow's wall clock, fires timers.
    timer_rules: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The legal periods the diagram names, copied from workflows/deadlines.toml at deploy, so an
    # instance keeps the rules it started with: {"rules": {id: rule}, "events": {id: event}}.
    legal_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lanes ("samr.handler", "*.handler") whose users may start this mechanism on a case.
    startable_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Message names that start this mechanism when another instance throws them.
    start_messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The serialized SpiffWorkflow spec, stored here once instead of in every instance; steps read it
    # (with the forms and timer rules) through engine/runtime/definitions.py, which keeps it per process.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    deployed_at: Mapped[datetime]
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    deployed_by: Mapped[User | None] = relationship()


class ProcessInstance(Base):
    """A run of one mechanism on one case; its SpiffWorkflow state without the spec."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    process_model_id: Mapped[int] = mapped_column(ForeignKey("process_model.id"))
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING)
    # Deferred: only a step reads it, and it locks the instance with a statement that loads it
    # (engine/runtime/instances.py); case pages and lists of instances do not fetch and carry it.
    state_json: Mapped[str] = mapped_column(Text, deferred=True)
    # Optimistic lock: every write is UPDATE ... WHERE version = :read_version.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(viewonly=True)
    # Not joined: a step needs only the model's immutable parts (engine/runtime/definitions.py); pages that
    # show its name load it with their instances.
    process_model: Mapped[ProcessModel] = relationship(viewonly=True)
    tasks: Mapped[list[HumanTask]] = relationship(back_populates="instance", order_by="HumanTask.id", viewonly=True)

    __mapper_args__ = {"version_id_col": version}


_OPEN = "state = 'open'"
_CLAIMABLE = "state = 'open' AND assignee_id IS NULL"


class HumanTask(Base):
    """A user task of an instance as the inbox sees it.

    state: open (ready; claimed when assignee_id is set) | completed | cancelled.
    """

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_guid"),
        # Work of one lane (any state), by deadline.
        Index("ix_human_task_lane_open", "agency_id", "role", "state", "due_at"),
        # The inbox (engine/oversight/queries.py): open unclaimed work of one lane and my open work, each in
        # the inbox's order, so a page is read from the index without sorting the matches, and
        # counted from the index alone.
        Index("ix_human_task_lane_claimable", "agency_id", "role", "due_at", "created_at", "id",
              postgresql_where=text(_CLAIMABLE), sqlite_where=text(_CLAIMABLE)),
        Index("ix_human_task_mine_open", "assignee_id", "due_at", "created_at", "id",
              postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        # Open work past its deadline across agencies (supervision), most overdue first.
        Index("ix_human_task_state_due", "state", "due_at", "id"),
        # An instance's open rows, which every step compares with its ready tasks, without
        # reading the rows of its finished work (engine/runtime/projection.py).
        Index("ix_human_task_instance_open", "instance_id",
              postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    role: Mapped[str] = mapped_column(String(32))
    form_name: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default=HumanTaskState.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    # The deadline rule from the diagram, and whether it was computed on fallback calendar data.
    deadline_rule: Mapped[str | None] = mapped_column(String(16))
    due_provisional: Mapped[bool] = mapped_column(default=False)
    # The catalog rule the due time follows (workflows/deadlines.toml) and when the legal event
    # it runs from happened; None for a literal period or a period that runs from the task.
    deadline_rule_id: Mapped[str | None] = mapped_column(String(64))
    deadline_trigger_at: Mapped[datetime | None]
    # What the rule said when the task opened, for every page and API answer that shows the due
    # time (no lookup of the model version per row): {"trigger", "trigger_title", "trigger_title_en",
    # "statute", "statute_en"}.
    deadline_basis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # outgoing | incoming when the task is a liaison's approval of a handoff between agencies.
    handoff: Mapped[str | None] = mapped_column(String(16))
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What the task was completed with (validated form data), for the case record.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    instance: Mapped[ProcessInstance] = relationship(back_populates="tasks", viewonly=True)
    case: Mapped[Case] = relationship(viewonly=True)
    agency: Mapped[Agency] = relationship(lazy="joined", viewonly=True)
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], viewonly=True)
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id], viewonly=True)

    @property
    def lane(self) -> str:
        return f"{self.agency.code}.{self.role}"


class Message(Base):
    """Outbox row for a message thrown by one instance and owed to another (or to a new one).

    status: pending | delivered | failed. Delivery is a conditional status transition, so two
    workers never both deliver the same row.
    """

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_pending", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    correlation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[Any] = mapped_column(JSON)
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    target_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Not taken before this time: a message nobody waits for yet is retried with back-off.
    available_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class Timer(Base):
    """A timer event an instance is waiting on, fired by `liandong worker` when due.

    status: pending | fired | cancelled. Firing is a status transition in the same transaction
    as the instance step it causes, so a timer fires once however many workers run.
    """

    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_guid"),
        Index("ix_timer_due", "status", "due_at"),
        # An instance's pending timers, which every step compares with its waiting events.
        Index("ix_timer_instance_pending", "instance_id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    due_provisional: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=TimerStatus.PENDING)
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
