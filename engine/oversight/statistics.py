"""The task force's statistics: the figures its reports are made of, for a period, per agency and
per mechanism, each computed in SQL (one grouped statement per figure, whatever the number of
cases).

A figure counts or sums what happened in the period and is attributed to the agency that did it:
clues to the registering agency, cases to the owning agency, transfers to the sender, filing
decisions to the police, supervisions to the procuratorate, results to the agency that recorded
them, amounts involved to the agency that registered the case's facts, penalties to the deciding
agency. Who reads which agencies' figures is `policy.statistics_agency_ids`: the office's
supervisors every agency, an agency head their own. Figures are counts and sums: no case's
content is read out.

Periods are days of the district (Asia/Shanghai), both ends included. Times compare with the
period's instants; the legal dates that are days (a result's date, a penalty decision's date)
compare with its days. When a stage's result was recorded more than once, the newest counts, and
a case's amounts are those of the newest facts registered for it.

Time per stage and legal periods met are read from the completed human tasks of the period (the
ones completed in it), attributed to the agency that held the task. Hours per step are
summarised by the median and the 90th percentile by the nearest-rank method (see `nearest_rank`),
computed in Python from the durations fetched per group, so SQLite and PostgreSQL agree.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

import models
from engine.access import audit, policy
from engine.errors import Forbidden, InvalidInput
from engine.runtime.transactions import transactional
from models import (
    Agency,
    Case,
    CaseParticipant,
    CaseResult,
    CompulsoryMeasure,
    Document,
    HumanTask,
    HumanTaskState,
    ProcessInstance,
    ProcessModel,
    User,
)

LOCAL = ZoneInfo("Asia/Shanghai")
# A report covers at most this many days (a few years: the office compares years).
MAX_DAYS = 366 * 5
FILING_TASKS = ("decide_filing", "file_on_notice")


@dataclass(frozen=True)
class Period:
    """Local days `first` to `last`, both included."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL)


@dataclass(frozen=True)
class Figure:
    """One figure: `key` names it, `group` the mechanism or stage it belongs to, `unit` says
    whether it counts (cases, persons) or sums yuan."""

    key: str
    group: str
    unit: str  # "count" | "persons" | "yuan"
    total: int | float
    by_agency: dict[str, int | float]  # agencies without any are left out

    def of(self, code: str) -> int | float:
        return self.by_agency.get(code, 0)


@dataclass(frozen=True)
class MechanismFigures:
    """Instances of one mechanism: started and ended in the period, running at its end."""

    key: str
    name: str
    started: int
    ended: int
    running: int


@dataclass(frozen=True)
class StageTime:
    """One step of one mechanism: its tasks completed in the period and the hours from opening to
    completion (median and 90th percentile, nearest rank)."""

    mechanism: str
    bpmn_id: str
    title: str
    count: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class PeriodsMet:
    """One legal rule: its tasks completed in the period, how many by their due time, the share."""

    rule_id: str
    count: int
    met: int

    @property
    def share(self) -> float:
        """Met over count, 0 to 1 (count is never 0: a rule without tasks is left out)."""
        return self.met / self.count


@dataclass(frozen=True)
class Statistics:
    period: Period
    agencies: list[str]  # the codes of the agencies in the reader's scope, in the district's order
    figures: list[Figure]
    mechanisms: list[MechanismFigures]
    clues_counted: bool  # False where this installation has no clues yet
    stage_times: list[StageTime] = field(default_factory=list)
    periods_met: list[PeriodsMet] = field(default_factory=list)
    by_key: dict[str, Figure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_key.update({f.key: f for f in self.figures})


def check_period(first: date | None, last: date | None) -> Period:
    """The period, or InvalidInput naming the field that is missing or out of order."""
    errors: dict[str, list[str]] = {}
    if first is None:
        errors["from"] = ["required"]
    if last is None:
        errors["to"] = ["required"]
    if first and last:
        if last < first:
            errors["to"] = ["the period must end on or after its first day"]
        elif (last - first).days >= MAX_DAYS:
            errors["to"] = [f"a period covers at most {MAX_DAYS} days"]
    if errors:
        raise InvalidInput("invalid period", errors)
    assert first is not None and last is not None
    return Period(first, last)


def _number(value: Any) -> int | float:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _latest_result():
    """No later row of the same case and stage: the newest result of each stage counts."""
    later = aliased(CaseResult)
    return ~exists().where(
        later.case_id == CaseResult.case_id, later.stage == CaseResult.stage,
        or_(later.recorded_at > CaseResult.recorded_at,
            and_(later.recorded_at == CaseResult.recorded_at, later.id > CaseResult.id)))


def _latest_facts():
    """No later completed `register_facts` on the same case: a case's amounts are its newest facts."""
    later = aliased(HumanTask)
    return ~exists().where(
        later.case_id == HumanTask.case_id, later.bpmn_id == "register_facts",
        later.state == HumanTaskState.COMPLETED,
        or_(later.completed_at > HumanTask.completed_at,
            and_(later.completed_at == HumanTask.completed_at, later.id > HumanTask.id)))


class _Figures:
    """Runs one grouped statement per figure, restricted to the agencies in scope."""

    def __init__(self, session: Session, scope: set[int] | None, codes: dict[int, str]) -> None:
        self.session, self.scope, self.codes = session, scope, codes
        self.figures: list[Figure] = []

    def add(self, key: str, group: str, unit: str, value: Any, agency: Any, query) -> None:
        statement = query.add_columns(agency.label("agency_id"), func.sum(value).label("value"))
        if self.scope is not None:
            statement = statement.where(agency.in_(self.scope))
        by_agency: dict[str, int | float] = {}
        for agency_id, amount in self.session.execute(statement.group_by(agency)):
            if agency_id in self.codes and amount:
                by_agency[self.codes[agency_id]] = _number(amount)
        total = _number(sum(by_agency.values()))
        self.figures.append(Figure(key, group, unit, total, by_agency))


def statistics(session: Session, user: User, period: Period) -> Statistics:
    """The figures of the period that `user` may read (every agency for the office's supervisors
    and administrators, their own agency for agency heads; Forbidden for everyone else).
    Nothing is written."""
    if not policy.can_view_statistics(user):
        raise Forbidden("statistics are for the task force's office and agency heads")
    scope = policy.statistics_agency_ids(user)
    agencies = [(a.id, a.code) for a in session.scalars(select(Agency).order_by(Agency.id))
                if scope is None or a.id in scope]
    codes = dict(agencies)
    since, until = period.since, period.until
    first, last = period.first, period.last
    one = literal(1)
    f = _Figures(session, scope, codes)

    clue = getattr(models, "Clue", None)
    if clue is not None:
        f.add("clues_registered", "clues", "count", one, clue.agency_id,
              select().select_from(clue).where(clue.registered_at >= since, clue.registered_at < until))

    f.add("cases_opened", "cases", "count", one, Case.owner_agency_id,
          select().select_from(Case).where(Case.created_at >= since, Case.created_at < until))

    letters = (select(Document.instance_id, Document.issuing_agency_id, func.min(Document.generated_at).label("at"))
               .where(Document.kind == "transfer_letter")
               .group_by(Document.instance_id, Document.issuing_agency_id).subquery())
    f.add("transfers", "transfer", "count", one, letters.c.issuing_agency_id,
          select().select_from(letters).where(letters.c.at >= since, letters.c.at < until))

    decided = (select().select_from(HumanTask)
               .where(HumanTask.bpmn_id.in_(FILING_TASKS), HumanTask.state == HumanTaskState.COMPLETED,
                      HumanTask.completed_at >= since, HumanTask.completed_at < until))
    not_filed = and_(HumanTask.bpmn_id == "decide_filing",
                     HumanTask.result["filing_decision"].as_string() == "not_file")
    f.add("filings", "filing", "count", one, HumanTask.agency_id, decided.where(~not_filed))
    f.add("non_filings", "filing", "count", one, HumanTask.agency_id, decided.where(not_filed))

    procuratorate = select(Agency.id).where(Agency.code == "procuratorate").scalar_subquery()
    f.add("supervisions", "supervision", "count", one, procuratorate,
          select().select_from(ProcessInstance)
          .join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
          .where(ProcessModel.key == "filing_supervision",
                 ProcessInstance.started_at >= since, ProcessInstance.started_at < until))

    def results(stage: str, outcome: str | None = None):
        query = (select().select_from(CaseResult)
                 .where(CaseResult.stage == stage, CaseResult.decided_on >= first, CaseResult.decided_on <= last,
                        _latest_result()))
        return query.where(CaseResult.outcome == outcome) if outcome else query

    agency = CaseResult.agency_id
    f.add("sent_for_prosecution", "investigation", "count", one, agency,
          results("investigation", "prosecution_recommended"))
    f.add("investigations_withdrawn", "investigation", "count", one, agency, results("investigation", "withdrawn"))
    f.add("suspects", "investigation", "persons", CaseResult.persons, agency, results("investigation"))
    f.add("compulsory_measures", "investigation", "persons", CompulsoryMeasure.persons, agency,
          select().select_from(CompulsoryMeasure).join(CaseResult, CaseResult.id == CompulsoryMeasure.result_id)
          .where(CompulsoryMeasure.ordered_on >= first, CompulsoryMeasure.ordered_on <= last, _latest_result()))
    f.add("prosecutions", "prosecution", "count", one, agency, results("prosecution", "prosecuted"))
    f.add("persons_prosecuted", "prosecution", "persons", CaseResult.persons, agency,
          results("prosecution", "prosecuted"))
    f.add("non_prosecutions", "prosecution", "count", one, agency, results("prosecution", "not_prosecuted"))
    f.add("persons_not_prosecuted", "prosecution", "persons", CaseResult.persons, agency,
          results("prosecution", "not_prosecuted"))
    f.add("judgments", "judgment", "count", one, agency, results("judgment"))
    f.add("persons_convicted", "judgment", "persons", CaseResult.persons, agency, results("judgment", "convicted"))
    f.add("persons_acquitted", "judgment", "persons", CaseResult.persons, agency, results("judgment", "acquitted"))
    f.add("compensation", "judgment", "yuan", func.coalesce(CaseResult.compensation, 0), agency,
          results("judgment"))

    facts = (select().select_from(HumanTask)
             .where(HumanTask.bpmn_id == "register_facts", HumanTask.state == HumanTaskState.COMPLETED,
                    HumanTask.completed_at >= since, HumanTask.completed_at < until, _latest_facts()))
    f.add("loss_amount", "amounts", "yuan", func.coalesce(HumanTask.result["loss_amount"].as_float(), 0),
          HumanTask.agency_id, facts)
    f.add("illegal_gain", "amounts", "yuan", func.coalesce(HumanTask.result["illegal_gain"].as_float(), 0),
          HumanTask.agency_id, facts)
    # An amount not yet known is unknown, not 0 (DOMAIN, Thresholds): say how many cases lack one.
    f.add("amounts_unknown", "amounts", "count", one, HumanTask.agency_id, facts.where(or_(
        HumanTask.result["loss_amount"].as_float().is_(None), HumanTask.result["illegal_gain"].as_float().is_(None))))

    decided_on = HumanTask.result["decided_on"].as_string()
    penalties = (select().select_from(HumanTask)
                 .where(HumanTask.bpmn_id == "record_penalty_decision", HumanTask.state == HumanTaskState.COMPLETED,
                        decided_on >= first.isoformat(), decided_on <= last.isoformat()))
    f.add("penalties", "penalty", "count", one, HumanTask.agency_id, penalties)
    f.add("fines", "penalty", "yuan", func.coalesce(HumanTask.result["fine_amount"].as_float(), 0),
          HumanTask.agency_id, penalties)

    return Statistics(period, [code for _id, code in agencies], f.figures,
                      _mechanisms(session, scope, since, until), clue is not None,
                      _stage_times(session, scope, since, until), _periods_met(session, scope, since, until))


def nearest_rank(ordered: list[float], p: float) -> float:
    """The `p`-th percentile (0 < p <= 100) of the ascending, non-empty `ordered` by the
    nearest-rank method: the value at 1-based rank ceil(p / 100 * n), never an interpolation, so
    every figure is an actual task's time. nearest_rank([1, 2, 3, 4], 50) == 2,
    nearest_rank([1, 2, 3, 4, 5], 50) == 3, nearest_rank(list(range(1, 11)), 90) == 9."""
    if not ordered or not 0 < p <= 100:
        raise ValueError("nearest_rank needs values and 0 < p <= 100")
    # Round before the ceiling so that 0.9 * 10 == 9.000000000000002 still ranks 9.
    return ordered[max(1, math.ceil(round(p / 100 * len(ordered), 9))) - 1]


def _hours(opened: datetime, completed: datetime) -> float:
    return (completed - opened).total_seconds() / 3600


def _completed_in(since: datetime, until: datetime, scope: set[int] | None):
    query = (select().select_from(HumanTask)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
             .where(HumanTask.state == HumanTaskState.COMPLETED, HumanTask.completed_at.is_not(None),
                    HumanTask.completed_at >= since, HumanTask.completed_at < until))
    return query.where(HumanTask.agency_id.in_(scope)) if scope is not None else query


def _stage_times(session: Session, scope: set[int] | None, since: datetime, until: datetime) -> list[StageTime]:
    """Per mechanism and step, in one statement fetching each completed task's two times (ordered
    by group); the durations are sorted and summarised here (SQLite has no percentile_cont)."""
    query = (_completed_in(since, until, scope)
             .add_columns(ProcessModel.key, HumanTask.bpmn_id, HumanTask.title,
                          HumanTask.created_at, HumanTask.completed_at)
             .order_by(ProcessModel.key, HumanTask.bpmn_id, HumanTask.id))
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    titles: dict[tuple[str, str], str] = {}
    for key, bpmn_id, title, opened, completed in session.execute(query):
        hours[(key, bpmn_id)].append(_hours(opened, completed))
        titles.setdefault((key, bpmn_id), title)
    rows = []
    for (key, bpmn_id), values in hours.items():
        values.sort()
        rows.append(StageTime(key, bpmn_id, titles[(key, bpmn_id)], len(values),
                              nearest_rank(values, 50), nearest_rank(values, 90)))
    return rows


def _periods_met(session: Session, scope: set[int] | None, since: datetime, until: datetime) -> list[PeriodsMet]:
    """Per legal rule, in one grouped statement: the tasks under a rule with a due time completed
    in the period, and how many were completed by it."""
    met = func.sum(case((HumanTask.completed_at <= HumanTask.due_at, 1), else_=0))
    query = (_completed_in(since, until, scope)
             .add_columns(HumanTask.deadline_rule_id, func.count(HumanTask.id), met)
             .where(HumanTask.deadline_rule_id.is_not(None), HumanTask.due_at.is_not(None))
             .group_by(HumanTask.deadline_rule_id).order_by(HumanTask.deadline_rule_id))
    return [PeriodsMet(rule_id, int(count), int(on_time or 0)) for rule_id, count, on_time in session.execute(query)]


def _mechanisms(session: Session, scope: set[int] | None, since: datetime, until: datetime) -> list[MechanismFigures]:
    """Per mechanism, in one statement: instances started in the period, ended in it, and running
    at its end; for an agency head, of the cases their agency takes part in."""
    pi = ProcessInstance
    started = and_(pi.started_at >= since, pi.started_at < until)
    ended = and_(pi.completed_at.is_not(None), pi.completed_at >= since, pi.completed_at < until)
    running = and_(pi.started_at < until, or_(pi.completed_at.is_(None), pi.completed_at >= until))
    counts = [func.sum(case((condition, 1), else_=0)) for condition in (started, ended, running)]
    query = (select(ProcessModel.key, *counts)
             .select_from(pi).join(ProcessModel, ProcessModel.id == pi.process_model_id)
             .group_by(ProcessModel.key).order_by(ProcessModel.key))
    if scope is not None:
        query = query.where(exists().where(CaseParticipant.case_id == pi.case_id, CaseParticipant.agency_id.in_(scope)))
    names = dict(session.execute(select(ProcessModel.key, ProcessModel.name).order_by(ProcessModel.id)).all())
    rows = [MechanismFigures(key, names.get(key, key), int(a or 0), int(b or 0), int(c or 0))
            for key, a, b, c in session.execute(query)]
    return [row for row in rows if row.started or row.ended or row.running]


@transactional
def record_export(session: Session, actor: User, period: Period, file_format: str, rows: int) -> None:
    """Audit a download of the statistics (system chain: it spans cases). Commits."""
    if not policy.can_view_statistics(actor):
        raise Forbidden("statistics are for the task force's office and agency heads")
    audit.record(session, "statistics_exported", actor=actor, detail={
        "from": period.first.isoformat(), "to": period.last.isoformat(), "format": file_format, "rows": rows})
