"""Results after filing through the engine: the police's investigation (with compulsory measures),
the procuratorate's decision and the court's judgment, in order, each audited, reaching SAMR's
liaison and handler as a notification and the case's register rows; who may record which stage;
bad input named field by field with nothing written; closing a case only once every mechanism
has ended. SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine import (
    CaseStillRunning,
    Conflict,
    Forbidden,
    InvalidInput,
    RegisterFilter,
    case_results,
    close_case,
    record_result,
    register_page,
    start_mechanism,
    startable_mechanisms,
    verify_audit,
)
from models import CaseResult, Notification
from tests.helpers import FILE, NOT_FILE, event_types, hand_over, police_decide, transferred

INVESTIGATION = {
    "outcome": "prosecution_recommended", "decided_on": "2026-03-02", "persons": 2,
    "document_number": "东公诉字〔2026〕3号", "summary": "犯罪事实清楚，证据确实充分",
    "measures": [{"kind": "detention", "ordered_on": "2026-03-02", "persons": 2},
                 {"kind": "arrest", "ordered_on": "2026-03-02", "persons": 1}],
}
PROSECUTION = {"outcome": "prosecuted", "decided_on": "2026-03-02", "persons": 2, "summary": "提起公诉"}
JUDGMENT = {"outcome": "convicted", "decided_on": "2026-03-02", "persons": 2, "compensation": 800000,
            "summary": "甲判处有期徒刑三年，并处罚金；乙判处有期徒刑一年，缓刑二年"}


@pytest.fixture
def filed(session, users):
    case = transferred(session, users, "甲公司配方被盗案")
    police_decide(session, users, case.id, FILE)
    return case


def test_results_in_order_reach_samr_and_the_register(session, users, filed):
    police = record_result(session, users["police_handler"], filed.id, "investigation", INVESTIGATION)
    assert [(m.kind, m.ordered_on, m.persons) for m in police.measures] == [
        ("detention", date(2026, 3, 2), 2), ("arrest", date(2026, 3, 2), 1)]
    session.refresh(filed)
    # Sending the case on brings the procuratorate in, which may then record its decision.
    assert ("procuratorate", "party") in {(p.agency.code, p.role) for p in filed.participants}
    record_result(session, users["procuratorate_handler"], filed.id, "prosecution", PROSECUTION)
    session.refresh(filed)
    assert ("court", "party") in {(p.agency.code, p.role) for p in filed.participants}
    judgment = record_result(session, users["court_handler"], filed.id, "judgment", JUDGMENT)
    assert (judgment.compensation, judgment.agency.code, judgment.persons) == (800000, "court", 2)

    assert event_types(session, filed.id).count("result_recorded") == 3
    assert verify_audit(session) == []
    read = case_results(session, users["samr_handler"], filed.id)
    assert [r.stage for r in read.results] == ["investigation", "prosecution", "judgment"]
    assert read.latest_stage == "judgment" and read.closure is None
    assert [read.ready(stage) for stage in ("investigation", "prosecution", "judgment")] == [True, True, True]

    told = session.scalars(select(Notification).where(Notification.kind == "result_recorded",
                                                      Notification.case_id == filed.id)).all()
    recipients = {n.recipient.username for n in told}
    # SAMR's liaison and the handler who opened the case, once per result; nobody else.
    assert recipients == {"samr_liaison", "samr_handler"}
    assert len(told) == 6

    rows = register_page(session, users["office_supervisor"], RegisterFilter(), per_page=50).items
    mine = [r for r in rows if r.case_id == filed.id]
    assert mine and {(r.result_stage, r.result_outcome) for r in mine} == {("judgment", "convicted")}


def test_who_records_which_stage(session, users, filed):
    with pytest.raises(Forbidden):
        record_result(session, users["samr_handler"], filed.id, "investigation", INVESTIGATION)
    with pytest.raises(Forbidden):
        record_result(session, users["police_liaison"], filed.id, "investigation", INVESTIGATION)
    with pytest.raises(Forbidden):
        record_result(session, users["police_handler"], filed.id, "prosecution", PROSECUTION)
    # The court has no part in the case yet.
    with pytest.raises(Exception) as refused:
        record_result(session, users["court_handler"], filed.id, "judgment", JUDGMENT)
    assert type(refused.value).__name__ in ("NotFound", "Forbidden")
    assert session.scalar(select(func.count()).select_from(CaseResult)) == 0


def test_stages_follow_one_another(session, users, filed):
    record_result(session, users["police_handler"], filed.id, "investigation", INVESTIGATION)
    # A later result of the same stage replaces it: the police withdrew the case after all.
    record_result(session, users["police_handler"], filed.id, "investigation",
                  {**INVESTIGATION, "outcome": "withdrawn", "measures": []})
    assert not case_results(session, users["police_handler"], filed.id).ready("prosecution")
    with pytest.raises(Conflict, match="prosecution_recommended"):
        record_result(session, users["procuratorate_handler"], filed.id, "prosecution", PROSECUTION)


def test_no_investigation_without_filing(session, users):
    refused = transferred(session, users, "乙公司案")
    police_decide(session, users, refused.id, NOT_FILE)
    with pytest.raises(Conflict, match="not filed"):
        record_result(session, users["police_handler"], refused.id, "investigation", INVESTIGATION)


def test_bad_input_names_each_field(session, users, filed, clock):
    bad = {"outcome": "prosecuted", "decided_on": "2026-03-09", "persons": -1, "summary": " ",
           "compensation": 5, "measures": [{"kind": "torture", "ordered_on": "yesterday", "persons": 0}]}
    with pytest.raises(InvalidInput) as refused:
        record_result(session, users["police_handler"], filed.id, "investigation", bad)
    assert set(refused.value.errors) == {
        "outcome", "decided_on", "persons", "summary", "compensation", "measures.0.kind",
        "measures.0.ordered_on", "measures.0.persons"}
    assert refused.value.errors["decided_on"] == ["must not be in the future"]
    with pytest.raises(InvalidInput) as refused:
        record_result(session, users["police_handler"], filed.id, "investigation",
                      {**INVESTIGATION, "decided_on": "2026-02-01"})
    assert "when the case was opened" in refused.value.errors["decided_on"][0]
    with pytest.raises(InvalidInput) as refused:
        record_result(session, users["police_handler"], filed.id, "appeal", INVESTIGATION)
    assert "stage" in refused.value.errors
    assert session.scalar(select(func.count()).select_from(CaseResult)) == 0
    assert "result_recorded" not in event_types(session, filed.id)


def test_closing_waits_for_every_mechanism(session, users, filed):
    with pytest.raises(CaseStillRunning) as refused:
        close_case(session, users["samr_handler"], filed.id, "办结")
    assert [key for key, _id in refused.value.running] == ["case_transfer"]
    assert "case_transfer" in str(refused.value)
    with pytest.raises(Forbidden):
        close_case(session, users["police_handler"], filed.id, "办结")
    hand_over(session, users, filed.id)
    with pytest.raises(InvalidInput):
        close_case(session, users["samr_handler"], filed.id, "  ")
    closed = close_case(session, users["samr_head"], filed.id, "刑事判决已生效，案件办结")
    assert closed.closed_by_id == users["samr_head"].id
    assert event_types(session, filed.id)[-1] == "case_closed"
    with pytest.raises(Conflict, match="closed already"):
        close_case(session, users["samr_handler"], filed.id, "again")
    with pytest.raises(Conflict, match="closed"):
        record_result(session, users["police_handler"], filed.id, "investigation", INVESTIGATION)
    # A closed case starts nothing more, not even with a confirmation.
    with pytest.raises(Conflict, match="closed"):
        start_mechanism(session, users["samr_handler"], filed.id, "consultation")
    assert startable_mechanisms(session, users["samr_handler"], filed) == []
    assert case_results(session, users["samr_handler"], filed.id).closure.reason == "刑事判决已生效，案件办结"
