"""Opening cases and starting mechanisms on them."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.runtime.instances import latest_model, start_instance
from engine.runtime.transactions import transactional
from engine.time.clock import now
from models import CONFIDENTIALITY_LEVELS, Case, CaseParticipant, HumanTask, ProcessInstance, ProcessModel, User

TRANSFER = "case_transfer"


class OpenedCase(NamedTuple):
    """A case just opened, with all it has so far: what its page shows, without reading it back."""

    case: Case
    instances: list[ProcessInstance]
    tasks: list[HumanTask]


def create_case(
    session: Session, actor: User, title: str, confidentiality: str = "confidential",
    mechanism: str = TRANSFER,
) -> Case:
    """Open a case in the actor's agency and start its first mechanism (`open_case`)."""
    return open_case(session, actor, title, confidentiality, mechanism).case


@transactional
def open_case(
    session: Session, actor: User, title: str, confidentiality: str = "confidential",
    mechanism: str = TRANSFER,
) -> OpenedCase:
    """Open a case in the actor's agency and start its first mechanism.

    One transaction: the case, its number, the owning agency as participant, the first
    instance with its first tasks, and the `case_created` / `instance_started` events.
    """
    if not policy.can_start_case(actor):
        raise Forbidden("only market supervision handlers open cases")
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
    assert agency is not None  # can_start_case: a handler, so a member of an agency
    case = Case(number=f"pending-{at.timestamp()}-{actor.id}", title=title,
                confidentiality=confidentiality, owner_agency_id=agency.id,
                created_by_id=actor.id, created_at=at,
                participants=[CaseParticipant(agency_id=agency.id, joined_at=at)])
    session.add(case)
    session.flush()
    # Numbers follow the database id so concurrent openings never collide (written with the
    # instance the mechanism starts).
    case.number = f"LD{at.year}-{case.id:05d}"
    audit.open_chain(session, case.id)
    audit.record(session, "case_created", actor=actor, case_id=case.id,
                 detail={"number": case.number, "confidentiality": confidentiality,
                         "mechanism": mechanism})
    started = start_instance(session, case, mechanism, actor, case_agencies={agency.id})
    return OpenedCase(case, [started.instance], started.opened)


@transactional
def start_mechanism(session: Session, actor: User, case_id: int, key: str,
                    data: dict[str, Any] | None = None) -> ProcessInstance:
    """Start a mechanism on a case, if the diagram's `startable_by` lanes include the actor's
    (one transaction, audited). The new instance knows who started it: `initiator_agency`."""
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, actor, case):
        raise NotFound(f"case {case_id} does not exist")
    if not policy.can_start_mechanism(session, actor, case, latest_model(session, key)):
        raise Forbidden(f"you may not start '{key}' on this case")
    agency = actor.agency
    assert agency is not None  # can_start_mechanism: the actor works in one of the model's lanes
    initial = {**(data or {}), "initiator_agency": agency.code}
    instance = start_instance(session, case, key, actor, initial).instance
    return instance


def startable_mechanisms(session: Session, actor: User, case: Case) -> list[ProcessModel]:
    """The latest version of each mechanism the actor may start on this case."""
    latest: dict[str, ProcessModel] = {}
    for model in session.scalars(select(ProcessModel).order_by(ProcessModel.id)):
        latest[model.key] = model
    return [m for m in latest.values() if policy.can_start_mechanism(session, actor, case, m)]
