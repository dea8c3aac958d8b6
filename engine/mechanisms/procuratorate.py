"""The procuratorate's copy of 立案协助 (workflows/case_transfer.bpmn): what it is told beyond
the diagram, which runs between SAMR and the police (DOMAIN §1, §1b; CPL art. 113; SPP Rules
arts. 557-564).

- Sending the transfer (`send_transfer`) copies the procuratorate on the case: its agency joins
  the case as an observer (engine/access/policy/ `is_observer`: it reads the case's metadata,
  timeline, decisions and documents, the 移送书 first), `observer_joined` is recorded and its
  liaisons are notified (`case_copied`). From then on it may open 立案监督 on its own motion.
- Reported to it, each as an event on the case's timeline and a notice to its liaisons: every
  不予立案 as it is sent to SAMR (`send_filing_decision`), a reconsideration that upholds it
  (`send_reconsideration_decision`), the police's filing deadline passing without a decision
  (`decide_filing_overdue`), and a transfer that the head refused (`transfer_refused`, or
  `transfer_to_administrative_penalty` when the case stays for a penalty) or that was given up
  after repeated returns (`handoff_abandoned`). A refused or abandoned transfer sent no
  letter, so its report copies the procuratorate on the case first: whether SAMR should have
  transferred it is the procuratorate's to examine (its 检察意见 requiring a transfer).

An agency already taking part in the case as a party (it has had a task on it) stays a party.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.access import audit
from engine.oversight import notifications
from engine.runtime.reached import Reached, Reaction
from engine.runtime.sql import per_dialect
from engine.time.clock import now
from models import Agency, Case, CaseParticipant, HumanTask, HumanTaskState

OBSERVER = "procuratorate"
# Whom the observing agency's notices go to: its liaisons, who pass them on.
RECIPIENTS = "liaison"
# The police head's filing decision, whose period the `decide_filing_overdue` timer watches.
FILING_DECISION = "decide_filing"


def _observer_join(dialect_insert_of: Callable) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING of the procuratorate's observer row, its agency found by
    code in the statement itself (no lookup first). An agency that is not set up gives a NULL
    agency_id, which the NOT NULL column refuses: the reaction fails rather than copy nobody."""
    columns = CaseParticipant.__table__.c
    return (dialect_insert_of(CaseParticipant.__table__)
            .values(case_id=bindparam("case_id", type_=columns.case_id.type),
                    agency_id=select(Agency.id).where(Agency.code == OBSERVER).scalar_subquery(),
                    joined_at=bindparam("joined_at", type_=columns.joined_at.type), role="observer")
            .on_conflict_do_nothing()
            .returning(columns.id))


# Built once per dialect (every transfer sent and every report runs it); the SQL compiled cache
# then serves it again without building the expression anew.
_JOINS = per_dialect(_observer_join)


def copy_on_case(reached: Reached, reason: str) -> bool:
    """Make the procuratorate an observer of the case unless it takes part already; True if it
    joined now (then `observer_joined` is recorded)."""
    session, instance = reached.session, reached.instance
    statement = _JOINS[session.get_bind().dialect.name]
    joined = session.execute(statement, {"case_id": instance.case_id, "joined_at": now(session)}).first() is not None
    if joined:
        case = session.identity_map.get(identity_key(Case, instance.case_id))
        if case is not None:
            session.expire(case, ["participants"])
        audit.record(session, "observer_joined", actor=reached.actor, case_id=instance.case_id,
                     instance_id=instance.id, detail={"agency": OBSERVER, "reason": reason})
    return joined


def _copied(reached: Reached) -> None:
    if copy_on_case(reached, "transfer_sent"):
        _notify(reached, notifications.CASE_COPIED)


def _notify(reached: Reached, kind: str, due_at: datetime | None = None) -> None:
    # The agency by its code: the notice's statement finds it, as the join did.
    session = reached.session
    case = session.get_one(Case, reached.instance.case_id)
    notifications.agency_notice(session, case, OBSERVER, RECIPIENTS, kind, reached.actor, due_at)


def _report(kind: str, when: Callable[[Mapping], bool] = lambda data: True,
            due_of: str | None = None) -> Reaction:
    """A reaction that reports the element to the procuratorate as `kind` when `when(data)`:
    copied on the case if it was not yet, an event on the timeline, a notice to its liaisons.
    `due_of`: the open task whose due time the report names (a missed deadline)."""
    def report(reached: Reached) -> None:
        if not when(reached.data):
            return
        session, instance = reached.session, reached.instance
        copy_on_case(reached, kind)
        due_at = _due_at(session, instance.id, due_of) if due_of else None
        audit.record(session, kind, actor=reached.actor, case_id=instance.case_id, instance_id=instance.id,
                     detail={"agency": OBSERVER, "element": reached.bpmn_id,
                             **({"due_at": due_at.isoformat()} if due_at else {})})
        _notify(reached, kind, due_at)
    return report


# Built once, as the join above.
_DUE_AT = (select(HumanTask.due_at)
           .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.bpmn_id == bindparam("bpmn_id"),
                  HumanTask.state == HumanTaskState.OPEN)
           .order_by(HumanTask.id.desc()).limit(1))


def _due_at(session: Session, instance_id: int, bpmn_id: str) -> datetime | None:
    """The due time of the instance's open task `bpmn_id` (the deadline that was missed)."""
    return session.scalar(_DUE_AT, {"instance_id": instance_id, "bpmn_id": bpmn_id})


REACTIONS: Mapping[str, Mapping[str, Reaction]] = {
    "case_transfer": {
        "send_transfer": _copied,
        "send_filing_decision": _report("non_filing_reported", lambda d: d.get("filing_decision") == "not_file"),
        "send_reconsideration_decision": _report("non_filing_upheld_reported",
                                                 lambda d: d.get("reconsideration_outcome") == "upheld"),
        "decide_filing_overdue": _report("filing_overdue_reported", due_of=FILING_DECISION),
        "transfer_refused": _report("transfer_refused_reported"),
        # Refused with the case kept for an administrative penalty: what 以罚代刑 oversight is about.
        "transfer_to_administrative_penalty": _report("transfer_refused_reported"),
        "handoff_abandoned": _report("transfer_abandoned_reported"),
    },
}
