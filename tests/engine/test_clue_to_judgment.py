"""One case the whole way through the engine: a service station registers a clue with its rights
holder and amounts, SAMR triages it into a case starting 立案协助, the transfer runs to the
police's filing, the police, the procuratorate and the court record their results in turn, the
remaining steps of the transfer finish and SAMR closes the case. Along the way: the station sees
its clue's status (never the case), the register shows the latest result, SAMR hears of each
result, the procuratorate observes and then takes part, and the audit chain holds. SQLite and
PostgreSQL.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from engine import (
    CaseStillRunning,
    EvidenceStore,
    NotFound,
    RegisterFilter,
    case_results,
    close_case,
    clue_page,
    record_result,
    register_clue,
    register_page,
    triage_clue,
    verify_audit,
    visible_case,
    visible_clue,
)
from models import Notification
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    act,
    event_types,
    hand_over,
    police_decide,
)

SAMR = "samr"
CLUE = {"source": "complaint", "rights_holder": "某精密机械有限公司", "suspect": "前技术员甲",
        "summary": "甲离职后在竞争对手处使用公司的配方", "loss_amount": "500000", "illegal_gain": "120000"}
INVESTIGATION = {
    "outcome": "prosecution_recommended", "decided_on": "2026-03-02", "persons": 1,
    "document_number": "东公诉字〔2026〕7号", "summary": "犯罪事实清楚，证据确实充分",
    "measures": [{"kind": "detention", "ordered_on": "2026-03-02", "persons": 1}],
}
PROSECUTION = {"outcome": "prosecuted", "decided_on": "2026-03-02", "persons": 1, "summary": "提起公诉"}
JUDGMENT = {"outcome": "convicted", "decided_on": "2026-03-02", "persons": 1, "compensation": 500000,
            "summary": "甲判处有期徒刑二年，并处罚金"}


@pytest.fixture
def store(session, tmp_path):
    store = EvidenceStore(tmp_path / "files", 1024 * 1024)
    session.info["evidence_store"] = store  # what the web app binds: triage re-hashes the clue's files in it
    return store


def _roles(session, case) -> dict[str, str]:
    session.refresh(case)
    return {p.agency.code: p.role for p in case.participants}


def _latest_result(session, users, case_id) -> set[tuple[str | None, str | None]]:
    rows = register_page(session, users["office_supervisor"], RegisterFilter(), per_page=100).items
    mine = [r for r in rows if r.case_id == case_id]
    assert mine, "the case has no register row"
    return {(r.result_stage, r.result_outcome) for r in mine}


def _told(session, case_id, stage) -> list[str]:
    notes = session.scalars(select(Notification).where(
        Notification.kind == "result_recorded", Notification.case_id == case_id)).all()
    return sorted(n.recipient.username for n in notes if n.params["stage"] == stage)


def _record(session, users, case_id, username, stage, data) -> None:
    record_result(session, users[username], case_id, stage, data)
    assert _latest_result(session, users, case_id) == {(stage, data["outcome"])}
    assert _told(session, case_id, stage) == ["samr_handler", "samr_liaison"]


def test_a_station_clue_goes_all_the_way_to_a_judgment(session, users, store):
    station = users["station_intake"]
    clue = register_clue(session, store, station, CLUE, [(io.BytesIO(b"%PDF-1.4 formula\n"), "配方.pdf")])
    assert clue.agency.kind == "service_station" and clue.status == "pending"
    assert (clue.rights_holder, clue.loss_amount, clue.illegal_gain) == ("某精密机械有限公司", 500000, 120000)
    [seen] = clue_page(session, station, SAMR).items
    assert seen.number == clue.number and seen.status == "pending"

    # SAMR triages it into a case starting 立案协助 only.
    opened = triage_clue(session, users["samr_handler"], clue.id, SAMR, "open", title="某精密机械公司配方案",
                         mechanisms=["case_transfer"]).opened
    case = opened.case
    assert [t.bpmn_id for t in opened.tasks] == ["register_facts"]
    seen = visible_clue(session, station, clue.id, SAMR)
    assert (seen.status, seen.case_id) == ("opened", case.id)
    with pytest.raises(NotFound):
        visible_case(session, station, case.id)
    assert "procuratorate" not in _roles(session, case)

    # The transfer: registered, approved, sent; the procuratorate is copied as an observer.
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    assert _roles(session, case)["procuratorate"] == "observer"
    police_decide(session, users, case.id, FILE)
    assert _roles(session, case)["police"] == "party"
    assert _roles(session, case)["procuratorate"] == "observer"
    assert "court" not in _roles(session, case)

    # The results after filing, each on the register and told to SAMR.
    _record(session, users, case.id, "police_handler", "investigation", INVESTIGATION)
    assert _roles(session, case)["procuratorate"] == "party"  # sent on for prosecution
    _record(session, users, case.id, "procuratorate_handler", "prosecution", PROSECUTION)
    assert _roles(session, case)["court"] == "party"
    _record(session, users, case.id, "court_handler", "judgment", JUDGMENT)
    read = case_results(session, users["samr_handler"], case.id)
    assert [r.stage for r in read.results] == ["investigation", "prosecution", "judgment"]
    assert read.latest_stage == "judgment" and read.closure is None

    # Not closable while 立案协助 still runs; the handover ends it.
    with pytest.raises(CaseStillRunning):
        close_case(session, users["samr_handler"], case.id, "刑事判决已生效，案件办结")
    hand_over(session, users, case.id)
    closed = close_case(session, users["samr_handler"], case.id, "刑事判决已生效，案件办结")
    assert closed.closed_by_id == users["samr_handler"].id
    assert case_results(session, users["samr_handler"], case.id).closure.reason == "刑事判决已生效，案件办结"

    types = event_types(session, case.id)
    assert types[0] == "case_created" and types[-1] == "case_closed"
    assert types.count("result_recorded") == 3 and "observer_joined" in types
    assert _latest_result(session, users, case.id) == {("judgment", "convicted")}
    # The station still sees its clue, opened into the case, and still not the case.
    [seen] = clue_page(session, station, SAMR).items
    assert (seen.number, seen.status, seen.case_id) == (clue.number, "opened", case.id)
    with pytest.raises(NotFound):
        visible_case(session, station, case.id)
    assert verify_audit(session) == []
