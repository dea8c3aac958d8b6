"""权利人救济 (rights_holder_remedies): what its diagram cannot say.

`case_rights_holders` offers the case's recorded rights holders on the forms that name whose
report or request it is. `serve_holder_notice` turns the police's record of serving the 不予立案
notice into the notice's delivery record (engine/casework/parties.py), so the date the holder's
7 days run from (CPL art. 112) and the delivery shown on the case page are one entry.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework import parties
from engine.errors import InvalidInput
from engine.mechanisms.completion import ChoiceSource, Completion, Hook
from engine.time.legal_events import entered_time
from models import Document, HumanTask, RightsHolder, User

# The form's field for each field of a delivery record.
SERVICE_FIELDS = {"method": "method", "delivered_at": "served_at", "delivered_by": "served_by",
                  "recipient": "recipient", "note": "note", "holder_id": "holder_id"}


def case_rights_holders(session: Session, actor: User, task: HumanTask) -> Sequence[tuple[Any, str]]:
    """The case's rights holders, by id, named."""
    return [(h.id, h.name) for h in session.scalars(
        select(RightsHolder).where(RightsHolder.case_id == task.case_id).order_by(RightsHolder.id))]


def _serve_notice(completion: Completion) -> None:
    session, task, data = completion.session, completion.task, completion.data
    document = session.scalar(select(Document).where(
        Document.instance_id == task.instance_id, Document.kind == "holder_non_filing_notice"))
    if document is None:
        raise InvalidInput("no notice to serve", {"served_at": ["the notice of non-filing was not generated"]})
    fields = {name: data.get(form_name) for name, form_name in SERVICE_FIELDS.items()}
    if isinstance(fields["delivered_at"], str) and fields["delivered_at"]:
        fields["delivered_at"] = entered_time(fields["delivered_at"])
    try:
        clean = parties.clean_delivery(session, document, fields)
    except InvalidInput as exc:
        raise InvalidInput("form data is not valid",
                           {SERVICE_FIELDS.get(k, k): v for k, v in exc.errors.items()}) from exc
    parties.add_delivery(session, completion.actor, document, clean)


HOOKS: dict[str, Hook] = {"serve_holder_notice": Hook(check=_serve_notice)}
CHOICES: dict[str, ChoiceSource] = {"case_rights_holders": case_rights_holders}
