"""The task force's statistics against a seeded district whose figures are counted by hand
(tests/statistics_world.py): every figure per agency for March and April 2026, the newest result
of a stage counting, the mechanisms' counts, who reads which agencies, the period's checks, and
the audited export. SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import (
    Forbidden,
    InvalidInput,
    StatisticsPeriod,
    check_period,
    record_statistics_export,
    statistics,
)
from models import AuditEvent
from tests.statistics_world import (
    APRIL,
    APRIL_PERIODS_MET,
    APRIL_STAGES,
    MARCH,
    MARCH_PERIODS_MET,
    MARCH_STAGES,
    seed,
)

MARCH_PERIOD = StatisticsPeriod(date(2026, 3, 1), date(2026, 3, 31))
APRIL_PERIOD = StatisticsPeriod(date(2026, 4, 1), date(2026, 4, 30))


@pytest.fixture
def world(session, users, clock):
    return seed(session, users, clock)


def figures(stats) -> dict[str, dict]:
    return {f.key: f.by_agency for f in stats.figures if not f.key.startswith("clues")}


def test_march_figures_per_agency(session, users, world):
    stats = statistics(session, users["office_supervisor"], MARCH_PERIOD)
    got = figures(stats)
    assert got == MARCH
    assert stats.by_key["loss_amount"].total == 800000 and stats.by_key["fines"].unit == "yuan"
    assert stats.agencies[:4] == ["samr", "police", "procuratorate", "court"]
    if stats.clues_counted:
        assert stats.by_key["clues_registered"].total == 0
    started = {m.key: m.started for m in stats.mechanisms}
    assert started["case_transfer"] == 3 and started["penalty_disclosure"] == 1
    assert all(m.started + m.running >= m.ended for m in stats.mechanisms)


def test_april_and_a_day(session, users, world):
    got = figures(statistics(session, users["admin"], APRIL_PERIOD))
    assert {k: v for k, v in got.items() if v} == APRIL
    # One day: 5 March holds the non-filing and the investigation's result.
    day = figures(statistics(session, users["office_supervisor"], StatisticsPeriod(date(2026, 3, 5), date(2026, 3, 5))))
    assert {k: v for k, v in day.items() if v} == {
        "non_filings": {"police": 1}, "sent_for_prosecution": {"police": 1}, "suspects": {"police": 3}}


def test_agency_heads_read_their_agency(session, users, world):
    police = statistics(session, users["police_head"], MARCH_PERIOD)
    assert police.agencies == ["police"]
    assert {k: v for k, v in figures(police).items() if v} == {
        k: v for k, v in MARCH.items() if set(v) == {"police"}}
    samr = statistics(session, users["samr_head"], MARCH_PERIOD)
    assert samr.by_key["loss_amount"].total == 800000 and samr.by_key["filings"].total == 0
    for username in ("samr_handler", "police_liaison", "court_handler"):
        with pytest.raises(Forbidden):
            statistics(session, users[username], MARCH_PERIOD)


def test_period_checks():
    assert check_period(date(2026, 3, 1), date(2026, 3, 1)) == StatisticsPeriod(date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(InvalidInput) as refused:
        check_period(date(2026, 3, 2), date(2026, 3, 1))
    assert list(refused.value.errors) == ["to"]
    with pytest.raises(InvalidInput) as refused:
        check_period(None, None)
    assert set(refused.value.errors) == {"from", "to"}
    with pytest.raises(InvalidInput):
        check_period(date(2000, 1, 1), date(2026, 1, 1))


def test_export_is_audited(session, users):
    record_statistics_export(session, users["office_supervisor"], MARCH_PERIOD, "xlsx", 21)
    event = session.query(AuditEvent).filter_by(event_type="statistics_exported").one()
    assert event.detail == {"from": "2026-03-01", "to": "2026-03-31", "format": "xlsx", "rows": 21}
    with pytest.raises(Forbidden):
        record_statistics_export(session, users["samr_handler"], MARCH_PERIOD, "csv", 1)


def test_clues_by_registering_agency(session, users, clock):
    """Clues count where the installation has them (a clue row as the intake writes it)."""
    import models

    if not hasattr(models, "Clue"):
        stats = statistics(session, users["office_supervisor"], MARCH_PERIOD)
        assert not stats.clues_counted and "clues_registered" not in stats.by_key
        return
    for day, who in ((3, "samr_handler"), (4, "police_handler"), (4, "samr_handler")):
        at = clock.now().replace(day=day)
        session.add(models.Clue(number=f"XS2026-{day}{who}", agency_id=users[who].agency.id, source="report",
                                summary="线索", registered_by_id=users[who].id, registered_at=at))
    session.add(models.Clue(number="XS2026-april", agency_id=users["samr_handler"].agency.id, source="report",
                            summary="线索", registered_by_id=users["samr_handler"].id,
                            registered_at=clock.now().replace(month=4, day=1)))
    session.commit()
    clues = statistics(session, users["office_supervisor"], MARCH_PERIOD).by_key["clues_registered"]
    assert clues.by_agency == {"samr": 2, "police": 1}
    assert statistics(session, users["police_head"], MARCH_PERIOD).by_key["clues_registered"].total == 1


def test_unknown_amounts_are_counted_not_summed(session, users, world):
    """Facts whose loss is not known yet (null, as the facts form allows) add no yuan and are counted."""
    from sqlalchemy import select
    from sqlalchemy.orm.attributes import flag_modified

    from models import HumanTask

    facts = session.scalar(select(HumanTask).where(HumanTask.case_id == world["b"].id,
                                                   HumanTask.bpmn_id == "register_facts"))
    facts.result = {**facts.result, "loss_amount": None}
    flag_modified(facts, "result")
    session.commit()
    stats = statistics(session, users["office_supervisor"], MARCH_PERIOD)
    assert stats.by_key["loss_amount"].by_agency == {"samr": 500000}
    assert stats.by_key["amounts_unknown"].by_agency == {"samr": 1}
    assert stats.by_key["illegal_gain"].total == 120000


def probe(session, world, users, bpmn_id: str, opened, completed, *, due=None, rule=None, state="completed"):
    """A completed task of case A's transfer written as a row, with times chosen by the test."""
    from uuid import uuid4

    from sqlalchemy import select

    from models import HumanTask, ProcessInstance

    instance = session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == world["a"].id)
                               .order_by(ProcessInstance.id)).first()
    session.add(HumanTask(instance_id=instance.id, case_id=world["a"].id, task_guid=str(uuid4()), bpmn_id=bpmn_id,
                          title="核对步骤", agency_id=users["samr_handler"].agency.id, role="handler", state=state,
                          created_at=opened, completed_at=completed, due_at=due, deadline_rule_id=rule))


def test_time_per_stage_median_and_90th_percentile(session, users, world):
    """Ten tasks of 1 to 10 hours (in no order), one completed in April and one open: nearest rank
    gives the median at rank ceil(0.5 * 10) = 5 (5 h) and the 90th percentile at rank 9 (9 h)."""
    from datetime import timedelta

    from tests.statistics_world import at

    for n, hours in enumerate((5, 1, 10, 3, 8, 2, 7, 4, 9, 6)):
        opened = at(3, 10 + n, 8)
        probe(session, world, users, "probe_step", opened, opened + timedelta(hours=hours))
    probe(session, world, users, "probe_step", at(3, 30), at(4, 1, 9))  # completed in April, after 47 hours
    probe(session, world, users, "probe_step", at(3, 30), None, state="open")
    session.commit()
    stats = statistics(session, users["office_supervisor"], MARCH_PERIOD)
    steps = {(s.mechanism, s.bpmn_id): s for s in stats.stage_times}
    step = steps[("case_transfer", "probe_step")]
    assert (step.count, step.median_hours, step.p90_hours, step.title) == (10, 5, 9, "核对步骤")
    # From the seeded district: A and B handed over on 2 and 4 March, signed for a day later each.
    receipt = steps[("case_transfer", "accept_receipt")]
    assert (receipt.count, receipt.median_hours, receipt.p90_hours) == (2, 24, 24)
    assert steps[("case_transfer", "register_facts")].count == 2  # A and B; C has no facts yet
    assert steps[("penalty_disclosure", "record_penalty_decision")].count == 1
    april = {(s.mechanism, s.bpmn_id): s for s in statistics(session, users["admin"], APRIL_PERIOD).stage_times}
    assert april[("case_transfer", "probe_step")].count == 1 and april[("case_transfer", "probe_step")].median_hours == 47  # 30 March 10:00 to 1 April 9:00
    # An agency head reads the steps of their agency's tasks only.
    police = statistics(session, users["police_head"], MARCH_PERIOD).stage_times
    assert ("case_transfer", "accept_receipt") in {(s.mechanism, s.bpmn_id) for s in police}
    assert not {s.bpmn_id for s in police} & {"probe_step", "register_facts"}


def test_share_of_legal_periods_met(session, users, world):
    """Four March tasks under one rule: early, exactly on the due time (met), late, early; one
    completed in April and one without a due time do not count: 3 of 4 met."""
    from datetime import timedelta

    hour = timedelta(hours=1)
    from tests.statistics_world import at

    for completed, due in ((at(3, 12), at(3, 13)), (at(3, 14), at(3, 14)), (at(3, 16) + hour, at(3, 16)),
                           (at(3, 20), at(3, 25))):
        probe(session, world, users, "probe_step", at(3, 11), completed, due=due, rule="probe_rule")
    probe(session, world, users, "probe_step", at(3, 11), at(4, 3), due=at(3, 31), rule="probe_rule")
    probe(session, world, users, "probe_step", at(3, 11), at(3, 12), rule="probe_rule")
    session.commit()
    rules = {r.rule_id: r for r in statistics(session, users["office_supervisor"], MARCH_PERIOD).periods_met}
    assert (rules["probe_rule"].count, rules["probe_rule"].met, rules["probe_rule"].share) == (4, 3, 0.75)
    # The seeded district's two transfers were decided and sent the day they were reported: met.
    assert (rules["transfer_decision"].count, rules["transfer_decision"].met) == (2, 2)
    april = {r.rule_id: r for r in statistics(session, users["admin"], APRIL_PERIOD).periods_met}
    assert (april["probe_rule"].count, april["probe_rule"].met, april["probe_rule"].share) == (1, 0, 0)
    assert "probe_rule" not in {r.rule_id for r in statistics(session, users["police_head"], MARCH_PERIOD).periods_met}


def stage_table(stats) -> dict:
    return {(s.mechanism, s.bpmn_id): (s.count, s.median_hours, s.p90_hours) for s in stats.stage_times}


def periods_table(stats) -> dict:
    return {r.rule_id: (r.count, r.met) for r in stats.periods_met}


def test_stages_and_periods_met_of_the_seeded_district(session, users, world):
    """Every step and every rule of the seeded district, as counted by hand, for March, for the first
    quarter (nothing happened before March) and for April."""
    march = statistics(session, users["office_supervisor"], MARCH_PERIOD)
    assert stage_table(march) == MARCH_STAGES and periods_table(march) == MARCH_PERIODS_MET
    quarter = statistics(session, users["office_supervisor"], StatisticsPeriod(date(2026, 1, 1), date(2026, 3, 31)))
    assert stage_table(quarter) == MARCH_STAGES and periods_table(quarter) == MARCH_PERIODS_MET
    april = statistics(session, users["admin"], APRIL_PERIOD)
    assert stage_table(april) == APRIL_STAGES and periods_table(april) == APRIL_PERIODS_MET


def test_nearest_rank():
    from engine.oversight.statistics import nearest_rank

    assert nearest_rank([1, 2, 3, 4], 50) == 2 and nearest_rank([1, 2, 3, 4, 5], 50) == 3
    assert nearest_rank(list(range(1, 11)), 90) == 9 and nearest_rank([7.5], 90) == 7.5
    assert nearest_rank(list(range(1, 21)), 90) == 18 and nearest_rank([1, 2], 100) == 2
    with pytest.raises(ValueError):
        nearest_rank([], 50)
