"""权利人救济 (rights_holder_remedies): what its diagram cannot say.

`case_rights_holders` offers the case's recorded rights holders on the forms that name whose
report or request it is. `serve_holder_notice` turns the police's record of serving the 不予立案
notice into the notice's delivery record (engine/casework/parties.py), so the date the holder's
7 days run from (CPL art. 112) and the delivery shown on the case page are one entry.

A request for reconsideration received after those 7 days (MPS Provisions art. 179) is still
registered, on the path that follows the window's timer: `mark_late_request` counts the days by
which the date it was received passed the last day of the period (the window timer's due day,
Beijing time) and records `late_reconsideration_request_registered`; the head's decision
(`decide_late_request`, shown the same count) accepts it, for a reason such as good cause for the
delay, or refuses it as out of time, never a request received within the period; a refusal's
notice (`holder_late_request_refusal`, which states the count) is served like the others
(`serve_late_refusal`: its delivery record).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.casework import documents, parties
from engine.errors import InvalidInput
from engine.mechanisms.completion import ChoiceSource, Completion, Hook
from engine.time.legal_events import entered_time
from models import Document, HumanTask, HumanTaskState, RightsHolder, Timer, User

LOCAL = ZoneInfo("Asia/Shanghai")
# The boundary timer that ends the holder's 7 days, and the task registering a request after it.
REQUEST_WINDOW = "request_window_closed"
LATE_REQUEST = "record_late_request"
REFUSAL = "holder_late_request_refusal"

# The form's field for each field of a delivery record.
SERVICE_FIELDS = {"method": "method", "delivered_at": "served_at", "delivered_by": "served_by",
                  "recipient": "recipient", "note": "note", "holder_id": "holder_id"}


def case_rights_holders(session: Session, actor: User, task: HumanTask) -> Sequence[tuple[Any, str]]:
    """The case's rights holders, by id, named."""
    return [(h.id, h.name) for h in session.scalars(
        select(RightsHolder).where(RightsHolder.case_id == task.case_id).order_by(RightsHolder.id))]


def _serve(kind: str) -> Callable[[Completion], None]:
    """A check that records the service of the instance's notice `kind` as its delivery."""
    def serve(completion: Completion) -> None:
        _serve_notice(completion, kind)
    return serve


def _serve_notice(completion: Completion, kind: str) -> None:
    session, task, data = completion.session, completion.task, completion.data
    document = session.scalar(select(Document).where(Document.instance_id == task.instance_id, Document.kind == kind))
    if document is None:
        raise InvalidInput("no notice to serve", {"served_at": [f"the notice to serve ({kind}) was not generated"]})
    fields = {name: data.get(form_name) for name, form_name in SERVICE_FIELDS.items()}
    if isinstance(fields["delivered_at"], str) and fields["delivered_at"]:
        fields["delivered_at"] = entered_time(fields["delivered_at"])
    try:
        clean = parties.clean_delivery(session, document, fields)
    except InvalidInput as exc:
        raise InvalidInput("form data is not valid",
                           {SERVICE_FIELDS.get(k, k): v for k, v in exc.errors.items()}) from exc
    parties.add_delivery(session, completion.actor, document, clean)


# --- a request received after the 7 days ------------------------------------------------------

class LateRequestLine(StrEnum):
    """The lines the head's decision on a late request shows (worded by web/labels.py)."""

    REQUESTED_ON = "requested_on"
    PERIOD_ENDED_ON = "period_ended_on"
    DAYS_LATE = "days_late"
    DELAY_REASONS = "delay_reasons"


@dataclass(frozen=True)
class Lateness:
    requested_on: date
    # The last day of the holder's 7 days (Beijing time).
    period_ended_on: date
    # Days the request was received after that day; 0 when it was received within the period.
    days_late: int

    def as_content(self) -> dict[str, Any]:
        return {"requested_on": self.requested_on.isoformat(), "period_ended_on": self.period_ended_on.isoformat(),
                "days_late": self.days_late}


def lateness(session: Session, instance_id: int, requested_on: date) -> Lateness:
    """How late a request received on `requested_on` is, against the instance's request window."""
    due_at = session.scalar(select(Timer.due_at).where(
        Timer.instance_id == instance_id, Timer.bpmn_id == REQUEST_WINDOW).order_by(Timer.id.desc()).limit(1))
    if due_at is None:
        raise LookupError(f"instance {instance_id} has no request window")
    ended = due_at.astimezone(LOCAL).date()
    return Lateness(requested_on, ended, max(0, (requested_on - ended).days))


def _registered(session: Session, instance_id: int) -> Mapping[str, Any]:
    """What the late request was registered with (the instance's completed `record_late_request`)."""
    result = session.scalar(select(HumanTask.result).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == LATE_REQUEST,
        HumanTask.state == HumanTaskState.COMPLETED).order_by(HumanTask.id.desc()).limit(1))
    if not result or not result.get("requested_on"):
        raise LookupError(f"instance {instance_id} registered no late request")
    return result


def _registered_lateness(session: Session, instance_id: int) -> Lateness:
    return lateness(session, instance_id, date.fromisoformat(_registered(session, instance_id)["requested_on"]))


def _mark_late(completion: Completion) -> None:
    """Registering a late request: count its days over the period and record them."""
    data, task = completion.data, completion.task
    if not data.get("late_request_received"):
        return
    late = lateness(completion.session, task.instance_id, date.fromisoformat(data["requested_on"]))
    audit.record(completion.session, "late_reconsideration_request_registered", actor=completion.actor,
                 case_id=task.case_id, instance_id=task.instance_id, task_id=task.id, detail=late.as_content())


def _decide_late(completion: Completion) -> None:
    """A request received within the period (registered only after it) is not refused as late."""
    if completion.data.get("late_request_decision") != "refuse":
        return
    late = _registered_lateness(completion.session, completion.task.instance_id)
    if late.days_late == 0:
        reason = (f"the request was received on {late.requested_on.isoformat()}, within the period that ended "
                  f"on {late.period_ended_on.isoformat()}: it may not be refused as out of time")
        raise InvalidInput("form data is not valid", {"late_request_decision": [reason]})


def _late_context(session: Session, actor: User, task: HumanTask, workflow_data: Mapping[str, Any]) -> list[tuple]:
    registered = _registered(session, task.instance_id)
    late = lateness(session, task.instance_id, date.fromisoformat(registered["requested_on"]))
    return [(LateRequestLine.REQUESTED_ON, late.requested_on.isoformat()),
            (LateRequestLine.PERIOD_ENDED_ON, late.period_ended_on.isoformat()),
            (LateRequestLine.DAYS_LATE, str(late.days_late)),
            (LateRequestLine.DELAY_REASONS, registered.get("delay_reasons") or None)]


_ADDRESSEE = documents.CONTENT_BUILDERS[REFUSAL]


def _refusal_content(session: Session, task: HumanTask, step_data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The refusal names its addressee (engine/casework/parties.py) and how late the request was."""
    lateness = _registered_lateness(session, task.instance_id).as_content()
    return {**_ADDRESSEE(session, task, step_data), "lateness": lateness}


documents.CONTENT_BUILDERS[REFUSAL] = _refusal_content

HOOKS: dict[str, Hook] = {
    "serve_holder_notice": Hook(check=_serve("holder_non_filing_notice")),
    "mark_late_request": Hook(check=_mark_late),
    "decide_late_request": Hook(check=_decide_late, context=_late_context),
    "serve_late_refusal": Hook(check=_serve(REFUSAL)),
}
CHOICES: dict[str, ChoiceSource] = {"case_rights_holders": case_rights_holders}
