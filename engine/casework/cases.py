"""Opening cases and starting mechanisms on them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, bindparam, column, select, text, true
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from engine.access import audit, policy
from engine.casework import results
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.runtime.held import as_loaded
from engine.runtime.instances import InsertedInstance, insert_instance, latest_model, start_instance
from engine.runtime.transactions import transactional
from engine.time.clock import now
from models import (
    CONFIDENTIALITY_LEVELS,
    Agency,
    AuditEvent,
    Case,
    CaseParticipant,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    ProcessModel,
    User,
    case_chain,
)

TRANSFER = "case_transfer"
DUPLICATE_CONFIRMED = "mechanism_duplicate_confirmed"
# A second instance started without a user (by a message another instance threw): nobody could
# confirm it, so the triggering event is its recorded reason.
DUPLICATE_STARTED = "mechanism_duplicate_started"
MAX_REASON = 1000


class OpenedCase(NamedTuple):
    """A case just opened, with all it has so far: what its page shows, without reading it back."""

    case: Case
    instances: list[ProcessInstance]
    tasks: list[HumanTask]


def create_case(
    session: Session, actor: User, title: str, confidentiality: str = "confidential",
    mechanism: str = TRANSFER, *, mechanisms: Sequence[str] | None = None,
) -> Case:
    """Open a case in the actor's agency and start the mechanisms chosen (`open_case`)."""
    return open_case(session, actor, title, confidentiality, mechanism, mechanisms=mechanisms).case


@transactional
def open_case(
    session: Session, actor: User, title: str, confidentiality: str = "confidential",
    mechanism: str = TRANSFER, *, mechanisms: Sequence[str] | None = None,
) -> OpenedCase:
    """Open a case in the actor's agency and start the mechanisms chosen for it.

    `mechanisms` is the opener's choice among `opening_mechanisms` (InvalidInput on the field
    `mechanisms` for any other; empty: a case with no mechanism running yet). Without it the
    single `mechanism` starts (立案协助 unless named), as programmatic callers have relied on.
    One transaction: the case, its number, the owning agency as participant, the instances
    with their first tasks, and the `case_created` / `instance_started` events.
    """
    if not policy.can_start_case(actor):
        raise Forbidden("only market supervision handlers open cases")
    return open_case_in(session, actor, title, confidentiality,
                        [mechanism] if mechanisms is None else checked_mechanisms(session, actor, mechanisms))


def checked_mechanisms(session: Session, actor: User, keys: Sequence[str]) -> list[str]:
    """The chosen mechanism keys, each once, in their order, if all are among the actor's
    `opening_mechanisms`; else InvalidInput on `mechanisms`."""
    chosen = list(dict.fromkeys(keys))
    if set(chosen) <= {TRANSFER}:
        return chosen  # whoever opens a case may start 立案协助 on it: no need to read the models
    allowed = {model.key for model in opening_mechanisms(session, actor)}
    refused = [key for key in chosen if key not in allowed]
    if refused:
        raise InvalidInput("mechanism not startable", {"mechanisms": [
            f"'{key}' is not a mechanism you may start on a new case; choose from {', '.join(sorted(allowed))}"
            for key in refused]})
    return chosen


def open_case_in(
    session: Session, actor: User, title: str, confidentiality: str, keys: Sequence[str],
    detail: dict[str, Any] | None = None,
) -> OpenedCase:
    """Open a case owned by the actor's agency and start `keys` on it, in the caller's
    transaction; the caller has checked that the actor may (a case opened from a clue is
    opened by its triager). `detail` goes into `case_created`."""
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["required"]
    elif len(title) > 300:
        errors["title"] = ["must be at most 300 characters"]
    if confidentiality not in CONFIDENTIALITY_LEVELS:
        errors["confidentiality"] = [f"must be one of {', '.join(CONFIDENTIALITY_LEVELS)}"]
    if errors:
        raise InvalidInput("cannot open case", errors)
    at = now(session)
    agency = actor.agency
    assert agency is not None  # callers check a role in an agency
    case, first = _insert_case(session, actor, agency, title, confidentiality, at, keys[0] if keys else None)
    audit.open_chain(session, case.id)
    audit.record(session, "case_created", actor=actor, case_id=case.id,
                 detail={"number": case.number, "confidentiality": confidentiality,
                         "mechanism": keys[0] if keys else None, "mechanisms": list(keys), **(detail or {})})
    instances: list[ProcessInstance] = []
    tasks: list[HumanTask] = []
    for index, key in enumerate(keys):
        # Mechanisms a user starts know who did (as start_mechanism tells them); 立案协助 is
        # otherwise started by a message and has never needed an initiator.
        initial = None if key == TRANSFER else {"initiator_agency": agency.code}
        started = start_instance(session, case, key, actor, initial, case_agencies={agency.id} if index == 0 else None,
                                 inserted=first if index == 0 else None)
        instances.append(started.instance)
        tasks.extend(started.opened)
    return OpenedCase(case, instances, tasks)


# PostgreSQL: the case, its number (from the id the sequence gives it, so concurrent openings
# never collide) and its owner as participant in one statement, and with them the instance of the
# first mechanism chosen. Built once: every opening runs them.
_AT = bindparam("at", type_=Case.__table__.c.created_at.type)
_NEW_CASE = text("""
INSERT INTO case_file (id, number, title, confidentiality, owner_agency_id, created_by_id, created_at)
SELECT n.id, 'LD' || :year || '-' || lpad(n.id::text, greatest(5, length(n.id::text)), '0'),
       :title, :confidentiality, :agency_id, :actor_id, :at
FROM (SELECT nextval(pg_get_serial_sequence('case_file', 'id')) AS id) AS n
RETURNING id, number""").bindparams(_AT).columns(column("id", Integer), column("number", String)).cte("new_case")
_OWNER = text("""
INSERT INTO case_participant (case_id, agency_id, joined_at, role)
SELECT id, :agency_id, :at, 'party' FROM new_case
RETURNING id""").bindparams(_AT).columns(column("id", Integer)).cte("owner")
_FIRST_INSTANCE = insert_instance(select(_NEW_CASE.c.id).scalar_subquery(),
                                  bindparam("actor_id", type_=Integer)).cte("first_instance")
_OPEN_CASE = select(_NEW_CASE.c.id, _NEW_CASE.c.number, _OWNER.c.id).select_from(_NEW_CASE.join(_OWNER, true()))
# Nothing started if no version of the mechanism is deployed: the first instance's columns are null.
_OPEN_CASE_STARTING = (
    select(_NEW_CASE.c.id, _NEW_CASE.c.number, _OWNER.c.id,
           _FIRST_INSTANCE.c.id, _FIRST_INSTANCE.c.process_model_id, _FIRST_INSTANCE.c.entered_days)
    .select_from(_NEW_CASE.join(_OWNER, true()).outerjoin(_FIRST_INSTANCE, true())))


def _insert_case(session: Session, actor: User, agency: Agency, title: str, confidentiality: str,
                 at: datetime, first: str | None) -> tuple[Case, InsertedInstance | None]:
    """Insert a new case numbered after its id, with the owning agency as participant; on
    PostgreSQL with the instance of mechanism `first` (start_instance goes on from it)."""
    if session.get_bind().dialect.name != "postgresql":
        case = Case(number=f"pending-{at.timestamp()}-{actor.id}", title=title,
                    confidentiality=confidentiality, owner_agency_id=agency.id,
                    created_by_id=actor.id, created_at=at,
                    participants=[CaseParticipant(agency_id=agency.id, joined_at=at)])
        session.add(case)
        session.flush()
        # The number follows the id (written by the next flush: after the first steps of the first
        # mechanism, or at the commit).
        case.number = f"LD{at.year}-{case.id:05d}"
        return case, None
    params = {"year": str(at.year), "title": title, "confidentiality": confidentiality, "agency_id": agency.id,
              "actor_id": actor.id, "at": at}
    if first is None:
        case_id, number, participant_id = session.execute(_OPEN_CASE, params).one()
        started = None
    else:
        case_id, number, participant_id, instance_id, model_id, entered_days = session.execute(
            _OPEN_CASE_STARTING, {**params, "key": first}).one()
        started = InsertedInstance(instance_id, model_id, entered_days, at)
    # The rows as inserted, in the session without reading them back.
    case = as_loaded(Case, id=case_id, number=number, title=title, confidentiality=confidentiality,
                     owner_agency_id=agency.id, created_by_id=actor.id, created_at=at)
    owner = as_loaded(CaseParticipant, id=participant_id, case_id=case_id, agency_id=agency.id, joined_at=at,
                      role="party")
    session.add(case)
    session.add(owner)
    # Related objects after adding, so that adding cascades to nothing.
    set_committed_value(case, "participants", [owner])  # a collection: as loading builds it
    owner.__dict__["agency"] = agency
    return case, started


def opening_mechanisms(session: Session, actor: User) -> list[ProcessModel]:
    """What may be started on a case the actor opens: 立案协助, and the latest version of each
    mechanism whose `startable_by` lanes include the actor's (policy.can_start_with_new_case)."""
    return [model for model in _latest_models(session)
            if model.key == TRANSFER or policy.can_start_with_new_case(actor, model)]


def _latest_models(session: Session) -> list[ProcessModel]:
    latest: dict[str, ProcessModel] = {}
    for model in session.scalars(select(ProcessModel).order_by(ProcessModel.id)):
        latest[model.key] = model
    return list(latest.values())


@transactional
def start_mechanism(session: Session, actor: User, case_id: int, key: str,
                    data: dict[str, Any] | None = None, confirm_reason: str | None = None) -> ProcessInstance:
    """Start a mechanism on a case, if the diagram's `startable_by` lanes include the actor's
    (one transaction, audited). The new instance knows who started it: `initiator_agency`.

    While an instance of the same mechanism still runs on the case (running or stopped on an
    error), a second one starts only with `confirm_reason` (InvalidInput on that field without
    it); the confirmation is recorded as `mechanism_duplicate_confirmed` with the reason.
    """
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, actor, case):
        raise NotFound(f"case {case_id} does not exist")
    if not policy.can_start_mechanism(session, actor, case, latest_model(session, key)):
        raise Forbidden(f"you may not start '{key}' on this case")
    closed = results.closure(session, case.id)
    if closed is not None:
        raise Conflict(f"case {case.number} was closed at {closed.closed_at.isoformat()}: no mechanism starts on it")
    running = running_instances(session, case.id, key)
    reason = " ".join((confirm_reason or "").split())
    if running and not reason:
        ids = ", ".join(str(i) for i in running)
        raise InvalidInput("mechanism already running", {"confirm_reason": [
            f"required: '{key}' already runs on this case (instance {ids}); confirm with a reason to start another"]})
    if len(reason) > MAX_REASON:
        raise InvalidInput("reason too long", {"confirm_reason": [f"must be at most {MAX_REASON} characters"]})
    agency = actor.agency
    assert agency is not None  # can_start_mechanism: the actor works in one of the model's lanes
    initial = {**(data or {}), "initiator_agency": agency.code}
    instance = start_instance(session, case, key, actor, initial).instance
    if running:
        audit.record(session, DUPLICATE_CONFIRMED, actor=actor, case_id=case.id, instance_id=instance.id,
                     detail={"process": key, "reason": reason, "running_instances": running})
    return instance


def system_duplicate_started(
    session: Session, case_id: int, instance_id: int, key: str, running: Sequence[int], reason: str,
    **cause: Any,
) -> None:
    """A second instance of mechanism `key` that the system started while `running` still run
    (the worker delivering a message): recorded as `mechanism_duplicate_started` with the
    triggering event as its reason and `cause` (which message, from which instance), shown on the
    case page beside the confirmed ones. Caller's transaction."""
    audit.record(session, DUPLICATE_STARTED, actor=None, case_id=case_id, instance_id=instance_id,
                 detail={"process": key, "reason": reason, "running_instances": list(running), **cause})


def running_instances(session: Session, case_id: int, key: str) -> list[int]:
    """Ids of the case's instances of mechanism `key` that have not ended (running or stopped
    on an error)."""
    return list(session.scalars(
        select(ProcessInstance.id).join(ProcessModel, ProcessInstance.process_model_id == ProcessModel.id)
        .where(ProcessInstance.case_id == case_id, ProcessModel.key == key,
               ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.ERROR)))
        .order_by(ProcessInstance.id)))


def duplicate_starts(session: Session, actor: User, case: Case) -> list[AuditEvent]:
    """The second instances of a mechanism on the case, oldest first: confirmed by a user
    (`mechanism_duplicate_confirmed`) or started by the system (`mechanism_duplicate_started`,
    no actor), with their reasons; for those who may read the case's content, else none."""
    if not policy.can_view_case_content(session, actor, case):
        return []
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.chain == case_chain(case.id),
                                 AuditEvent.event_type.in_((DUPLICATE_CONFIRMED, DUPLICATE_STARTED)))
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.seq)))


def startable_mechanisms(session: Session, actor: User, case: Case) -> list[ProcessModel]:
    """The latest version of each mechanism the actor may start on this case; none once it is closed."""
    if results.closure(session, case.id) is not None:
        return []
    return [m for m in _latest_models(session) if policy.can_start_mechanism(session, actor, case, m)]
