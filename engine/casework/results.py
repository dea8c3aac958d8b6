"""Results after filing, and closing a case.

Once the police have filed a case, each agency of the criminal process records what it decided:
the police the investigation (compulsory measures with their dates, suspects, 移送审查起诉 or
撤案), the procuratorate its decision (起诉 / 不起诉, with the persons), the court its judgment
(date, persons, sentences in summary, civil compensation). The stages follow one another: the
procuratorate decides on what the police sent for prosecution, the court judges what was
prosecuted; sending on makes the next agency a party of the case. Each result is audited on the
case's chain and reaches the market supervision bureau as a notification.

A case is closed when nothing runs on it any more: closing names the running mechanisms
otherwise (`CaseStillRunning`, a Conflict). A closed case takes no further results.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from engine.access import audit, policy
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.oversight import notifications
from engine.runtime.sql import insert_if_absent
from engine.runtime.transactions import transactional
from engine.time.clock import now
from models import (
    MEASURE_KINDS,
    RESULT_AGENCIES,
    RESULT_OUTCOMES,
    RESULT_STAGES,
    Agency,
    Case,
    CaseClosure,
    CaseParticipant,
    CaseResult,
    CompulsoryMeasure,
    HumanTask,
    HumanTaskState,
    InstanceStatus,
    ProcessInstance,
    ProcessModel,
    User,
)

# Dates are the days of the district's offices.
LOCAL = ZoneInfo("Asia/Shanghai")
MAX_PERSONS = 9999
MAX_MEASURES = 50
MAX_SUMMARY = 5000
MAX_AMOUNT = 1_000_000_000_000
# The result of the stage before, that a stage needs (else there is nothing to decide on).
NEEDS = {"prosecution": ("investigation", "prosecution_recommended"), "judgment": ("prosecution", "prosecuted")}
# Sending on brings the next agency into the case.
SENDS_TO = {("investigation", "prosecution_recommended"): "procuratorate", ("prosecution", "prosecuted"): "court"}
# The police's decisions that file a case (engine/oversight/register.py, FILING_TASKS).
FILING_TASKS = ("decide_filing", "file_on_notice")


class CaseStillRunning(Conflict):
    """The case cannot be closed while mechanisms run on it; `running` names them."""

    def __init__(self, running: list[tuple[str, int]]) -> None:
        names = ", ".join(f"{key} (#{instance_id})" for key, instance_id in running)
        super().__init__(f"the case still has running mechanisms: {names}")
        self.running = running


@dataclass(frozen=True)
class CaseResults:
    """A case's results, oldest first per stage, its closing, and what the reader may do."""

    results: list[CaseResult]
    closure: CaseClosure | None
    filed: bool = False  # the police filed the case: its investigation can be recorded

    def ready(self, stage: str) -> bool:
        """The stage can be recorded now: the case is open and the stage before ended as it must."""
        if self.closure is not None:
            return False
        if stage == "investigation":
            return self.filed
        before, outcome = NEEDS[stage]
        previous = self.latest(before)
        return previous is not None and previous.outcome == outcome

    def latest(self, stage: str) -> CaseResult | None:
        rows = [r for r in self.results if r.stage == stage]
        return rows[-1] if rows else None

    @property
    def latest_stage(self) -> str | None:
        """The furthest stage reached (investigation < prosecution < judgment)."""
        reached = [s for s in RESULT_STAGES if self.latest(s) is not None]
        return reached[-1] if reached else None


def _case(session: Session, actor: User, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, actor, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def case_results(session: Session, actor: User, case_id: int) -> CaseResults:
    """The case's results with their measures and its closing, for readers of its content.
    Nothing is written."""
    case = _case(session, actor, case_id)
    if not policy.can_view_results(session, actor, case):
        raise Forbidden("the results are the case's content")
    results = list(session.scalars(
        select(CaseResult).where(CaseResult.case_id == case.id).options(selectinload(CaseResult.measures))
        .order_by(CaseResult.recorded_at, CaseResult.id)))
    return CaseResults(results, closure(session, case.id), _filed(session, case.id))


def closure(session: Session, case_id: int) -> CaseClosure | None:
    return session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))


def running_mechanisms(session: Session, case_id: int) -> list[tuple[str, int]]:
    """(mechanism key, instance id) of every instance that has not ended: running, or stopped
    on an error an administrator may still retry."""
    return [(key, instance_id) for key, instance_id in session.execute(
        select(ProcessModel.key, ProcessInstance.id)
        .join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
        .where(ProcessInstance.case_id == case_id,
               ProcessInstance.status.in_([InstanceStatus.RUNNING, InstanceStatus.ERROR]))
        .order_by(ProcessInstance.id))]


# --- input --------------------------------------------------------------------------------

def _date(value: Any, field: str, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
        errors.setdefault(field, []).append(f"'{value}' is not a date such as 2026-03-01")
        return None
    errors.setdefault(field, []).append("required")
    return None


def _int(value: Any, field: str, low: int, high: int, errors: dict[str, list[str]],
         required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            errors.setdefault(field, []).append("required")
        return None
    if isinstance(value, bool):
        errors.setdefault(field, []).append("must be a whole number")
        return None
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        errors.setdefault(field, []).append("must be a whole number")
        return None
    if not low <= number <= high:
        errors.setdefault(field, []).append(f"must be between {low} and {high}")
        return None
    return number


def _in_period(day: date | None, field: str, first: date, today: date, errors: dict[str, list[str]]) -> None:
    if day is None:
        return
    if day > today:
        errors.setdefault(field, []).append("must not be in the future")
    elif day < first:
        errors.setdefault(field, []).append(f"must not be before {first.isoformat()}, when the case was opened")


def _values(session: Session, case: Case, stage: str, data: dict[str, Any]) -> dict[str, Any]:
    """The result's columns from `data`, or InvalidInput naming every field and its reasons."""
    errors: dict[str, list[str]] = {}
    known = {"outcome", "decided_on", "persons", "document_number", "summary", "compensation", "measures"}
    for name in sorted(set(data) - known):
        errors[name] = ["unknown field"]
    outcome = data.get("outcome")
    if outcome not in RESULT_OUTCOMES[stage]:
        errors["outcome"] = [f"must be one of {', '.join(RESULT_OUTCOMES[stage])}"]
    today, first = now(session).astimezone(LOCAL).date(), case.created_at.astimezone(LOCAL).date()
    decided_on = _date(data.get("decided_on"), "decided_on", errors)
    _in_period(decided_on, "decided_on", first, today, errors)
    persons = _int(data.get("persons"), "persons", 0 if stage == "investigation" else 1, MAX_PERSONS, errors)
    number = data.get("document_number") or None
    if number is not None and (not isinstance(number, str) or len(number.strip()) > 100):
        errors["document_number"] = ["must be text of at most 100 characters"]
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = ["required"]
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = [f"must be at most {MAX_SUMMARY} characters"]
    compensation = None
    if stage == "judgment":
        compensation = _int(data.get("compensation"), "compensation", 0, MAX_AMOUNT, errors, required=False)
    elif data.get("compensation") not in (None, ""):
        errors["compensation"] = ["only a judgment awards compensation"]
    measures: list[CompulsoryMeasure] = []
    raw = data.get("measures") or []
    if stage != "investigation" and raw:
        errors["measures"] = ["only the investigation records compulsory measures"]
    elif not isinstance(raw, list) or len(raw) > MAX_MEASURES:
        errors["measures"] = [f"must be a list of at most {MAX_MEASURES} measures"]
    else:
        for i, item in enumerate(raw):
            prefix = f"measures.{i}"
            if not isinstance(item, dict):
                errors[prefix] = ["must be an object with kind, ordered_on and persons"]
                continue
            for name in sorted(set(item) - {"kind", "ordered_on", "persons"}):
                errors[f"{prefix}.{name}"] = ["unknown field"]
            if item.get("kind") not in MEASURE_KINDS:
                errors[f"{prefix}.kind"] = [f"must be one of {', '.join(MEASURE_KINDS)}"]
            ordered_on = _date(item.get("ordered_on"), f"{prefix}.ordered_on", errors)
            _in_period(ordered_on, f"{prefix}.ordered_on", first, today, errors)
            if ordered_on and decided_on and ordered_on > decided_on:
                errors.setdefault(f"{prefix}.ordered_on", []).append("must not be after the result's date")
            count = _int(item.get("persons"), f"{prefix}.persons", 1, MAX_PERSONS, errors)
            if ordered_on and count is not None and item.get("kind") in MEASURE_KINDS:
                measures.append(CompulsoryMeasure(kind=item["kind"], ordered_on=ordered_on, persons=count))
    if errors:
        raise InvalidInput("cannot record the result: " + "; ".join(
            f"{name}: {', '.join(reasons)}" for name, reasons in errors.items()), errors)
    return {"outcome": outcome, "decided_on": decided_on, "persons": persons,
            "document_number": number.strip() if number else None, "summary": summary.strip(),  # type: ignore[union-attr]
            "compensation": compensation, "measures": measures}


def _latest(session: Session, case_id: int, stage: str) -> CaseResult | None:
    return session.scalar(select(CaseResult).where(CaseResult.case_id == case_id, CaseResult.stage == stage)
                          .order_by(CaseResult.recorded_at.desc(), CaseResult.id.desc()).limit(1))


def _filed(session: Session, case_id: int) -> bool:
    """The police filed the case: the head decided 立案, or filed on the procuratorate's notice."""
    for bpmn_id, result in session.execute(
            select(HumanTask.bpmn_id, HumanTask.result)
            .where(HumanTask.case_id == case_id, HumanTask.bpmn_id.in_(FILING_TASKS),
                   HumanTask.state == HumanTaskState.COMPLETED)):
        if bpmn_id == "file_on_notice" or (result or {}).get("filing_decision") == "file":
            return True
    return False


def _check_order(session: Session, case: Case, stage: str, decided_on: date) -> None:
    """A stage needs the one before it: Conflict if it is missing, InvalidInput for a date
    before it."""
    if stage == "investigation":
        if not _filed(session, case.id):
            raise Conflict("the police have not filed this case: there is no investigation to record")
        return
    before, outcome = NEEDS[stage]
    previous = _latest(session, case.id, before)
    if previous is None or previous.outcome != outcome:
        raise Conflict(f"the {stage} needs the {before} to end with '{outcome}' first")
    if decided_on < previous.decided_on:
        raise InvalidInput("decided_on: before the stage it follows", {"decided_on": [
            f"must not be before {previous.decided_on.isoformat()}, the date of the {before}'s result"]})


def _join(session: Session, case: Case, code: str) -> None:
    """The agency becomes a party of the case: added, or raised from observer (the procuratorate
    is copied on every transfer); concurrent writers may race, so upsert."""
    agency_id = session.scalar(select(Agency.id).where(Agency.code == code))
    if agency_id is None:
        return
    joined = insert_if_absent(session, CaseParticipant, case_id=case.id, agency_id=agency_id,
                              joined_at=now(session), role="party")
    if not joined:
        session.execute(update(CaseParticipant).where(
            CaseParticipant.case_id == case.id, CaseParticipant.agency_id == agency_id,
            CaseParticipant.role == "observer").values(role="party"))
    session.expire(case, ["participants"])


# --- actions ------------------------------------------------------------------------------

@transactional
def record_result(session: Session, actor: User, case_id: int, stage: str, data: dict[str, Any]) -> CaseResult:
    """Record the actor's agency's result at `stage` (investigation, prosecution, judgment).

    One transaction: the result with its measures, the next agency joining the case when the
    result sends it on, the `result_recorded` event on the case's chain and the notifications to
    the market supervision bureau. Refused: an unknown stage or bad data (InvalidInput, every
    field named), an actor not of the stage's agency (Forbidden), a closed case or a missing
    earlier stage (Conflict)."""
    case = _case(session, actor, case_id)
    if stage not in RESULT_STAGES:
        raise InvalidInput("stage: unknown value", {"stage": [f"must be one of {', '.join(RESULT_STAGES)}"]})
    if not policy.can_record_result(session, actor, case, stage):
        raise Forbidden(f"only the {RESULT_AGENCIES[stage]}'s handlers and heads record the {stage}")
    if closure(session, case.id) is not None:
        raise Conflict("the case is closed")
    values = _values(session, case, stage, data)
    _check_order(session, case, stage, values["decided_on"])
    agency = next(m.agency for m in actor.memberships if m.agency.code == RESULT_AGENCIES[stage])
    result = CaseResult(case_id=case.id, stage=stage, agency_id=agency.id, recorded_by_id=actor.id,
                        recorded_at=now(session), **values)
    session.add(result)
    session.flush()
    joined = SENDS_TO.get((stage, result.outcome))
    if joined:
        _join(session, case, joined)
    audit.record(session, "result_recorded", actor=actor, case_id=case.id, detail={
        "result_id": result.id, "stage": stage, "outcome": result.outcome,
        "decided_on": result.decided_on.isoformat(), "persons": result.persons,
        "measures": [[m.kind, m.ordered_on.isoformat(), m.persons] for m in result.measures],
        "compensation": result.compensation, "document_number": result.document_number,
    })
    notifications.result_recorded(session, case, actor, stage)
    return result


@transactional
def close_case(session: Session, actor: User, case_id: int, reason: str) -> CaseClosure:
    """Close the case once every mechanism on it has ended (one transaction, `case_closed` on its
    chain). Refused with the running mechanisms named (`CaseStillRunning`), or when it is closed
    already (Conflict)."""
    case = _case(session, actor, case_id)
    if not policy.can_close_case(session, actor, case):
        raise Forbidden("only the owning agency's handlers and heads close a case")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: required", {"reason": ["required"]})
    if len(reason) > MAX_SUMMARY:
        raise InvalidInput("reason: too long", {"reason": [f"must be at most {MAX_SUMMARY} characters"]})
    if closure(session, case.id) is not None:
        raise Conflict("the case is closed already")
    running = running_mechanisms(session, case.id)
    if running:
        raise CaseStillRunning(running)
    row = CaseClosure(case_id=case.id, closed_by_id=actor.id, closed_at=now(session), reason=reason)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # closed by someone else at the same moment (one closing per case)
        raise Conflict("the case is closed already") from None
    audit.record(session, "case_closed", actor=actor, case_id=case.id, detail={"reason": reason})
    return row
