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
from tests.statistics_world import APRIL, MARCH, seed

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
