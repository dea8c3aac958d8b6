"""The shared case register on cases walked through the engine: each row's state, dates and
document number, who sees which row (and a secret case's title), the filters, and the page's
statement count, on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

import engine
from engine import InvalidInput, RegisterFilter, create_case, deliver_pending, register_page, start_mechanism
from models import Message
from tests.conftest import SHANGHAI
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    NOT_FILE,
    act,
    instance_of,
    police_decide,
    transferred,
)

DECISION = {"decision_number": "东市监罚〔2026〕7号", "decided_on": "2026-03-02", "party_name": "某科技有限公司",
            "violation": "以不正当手段获取权利人技术秘密", "penalty": "罚款人民币五十万元", "fine_amount": 500000,
            "trade_secret_matter": True}
SAMR_REQUEST = {"supervision_trigger": "samr_request", "non_filing_reasons": "没有犯罪事实",
                "samr_request_reasons": "损失数额已达追诉标准"}
EXAMINE = {"supervision_decision": "request_explanation", "examination_opinion": "移送材料显示损失已达标准。",
           "questions": "请说明认定没有犯罪事实的依据。"}
DAY = timedelta(days=1)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(session, users, clock):
    return build_world(session, users, clock)


def build_world(session, users, clock):
    """filed: transferred on 2 March, filed on 3 March. refused (secret): transferred on 4 March,
    not filed on 5 March, SAMR's request for supervision examined on 6 March. penalty: decided on
    9 March and copied. fresh: a case whose facts are still being registered (10 March)."""
    clock.set(at(2))
    filed = transferred(session, users, "甲公司配方被盗案")
    clock.set(at(3))
    police_decide(session, users, filed.id, FILE)

    clock.set(at(4))
    refused = create_case(session, users["samr_handler"], "乙公司源代码泄露案", confidentiality="secret")
    act(session, users["samr_handler"], refused.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], refused.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], refused.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    clock.set(at(5))
    police_decide(session, users, refused.id, NOT_FILE)
    clock.set(at(6))
    session.add(Message(name="filing_supervision_requested", case_id=refused.id, correlation={},
                        payload=SAMR_REQUEST, source_instance_id=instance_of(session, refused.id).id,
                        status="pending", created_at=clock.now(), available_at=clock.now()))
    session.commit()
    assert deliver_pending(session) == 1
    act(session, users["procuratorate_handler"], refused.id, "examine_supervision", EXAMINE)

    clock.set(at(9))
    penalty = create_case(session, users["samr_handler"], "丙公司行政处罚案")
    start_mechanism(session, users["samr_handler"], penalty.id, "penalty_disclosure")
    act(session, users["samr_handler"], penalty.id, "record_penalty_decision", DECISION)
    clock.set(at(10))
    act(session, users["samr_liaison"], penalty.id, "copy_penalty_decision", {"copied": True})

    clock.set(at(11))
    fresh = create_case(session, users["samr_handler"], "丁公司客户名单案")
    return {"filed": filed, "refused": refused, "penalty": penalty, "fresh": fresh}


def rows(session, user, **filters):
    return register_page(session, user, RegisterFilter(**filters), per_page=100).items


def keyed(items):
    return {(r.case_number, r.mechanism): r for r in items}


def test_rows_states_dates_and_documents(session, users, world):
    got = keyed(rows(session, users["office_supervisor"]))
    filed, refused, penalty, fresh = (world[k].number for k in ("filed", "refused", "penalty", "fresh"))
    assert {key: row.state for key, row in got.items()} == {
        (filed, "transfer"): "filed", (filed, "filing"): "filed",
        (refused, "transfer"): "not_filed", (refused, "filing"): "not_filed",
        (refused, "supervision"): "explanation_requested",
        (penalty, "transfer"): "open", (penalty, "penalty"): "copied",
        (fresh, "transfer"): "open",
    }
    transfer = got[(filed, "transfer")]
    assert (transfer.dates["sent"], transfer.dates["received"], transfer.dates["filed"]) == (at(2), at(3), at(3))
    assert transfer.key_date == at(2) and transfer.parties == ("samr", "police") and transfer.status == "running"
    assert transfer.documents["transfer_letter"].startswith("东市监移〔2026〕")
    filing = got[(filed, "filing")]
    assert filing.document_number == transfer.documents["filing_notice"] and filing.document_number.startswith("东公立")
    assert filing.key_date == at(3) and filing.task_id is not None
    non_filing = got[(refused, "filing")]
    assert non_filing.document_number.startswith("东公不立") and non_filing.key_date == at(5)
    supervision = got[(refused, "supervision")]
    assert (supervision.trigger, supervision.key_date, supervision.outcome) == ("samr_request", at(6), None)
    assert supervision.dates["examined"] == at(6) and supervision.documents["explain_request"].startswith("东检要说")
    disclosure = got[(penalty, "penalty")]
    assert (disclosure.dates["decided"], disclosure.dates["copied"], disclosure.key_date) == (at(9), at(10), at(9))
    assert got[(fresh, "transfer")].dates == {} and got[(fresh, "transfer")].key_date == at(11)
    # Newest key date first.
    dates = [r.key_date for r in rows(session, users["office_supervisor"])]
    assert dates == sorted(dates, reverse=True)


# Who sees which cases' rows, and whether the secret case's title is shown to them.
VISIBLE = {
    "samr_handler": ({"filed", "refused", "penalty", "fresh"}, True),
    "samr_liaison": ({"filed", "refused", "penalty", "fresh"}, True),
    "police_handler": ({"filed", "refused", "penalty"}, True),
    "police_head": ({"filed", "refused", "penalty"}, True),
    # Copied on both transfers: it observes the filed case and took part in the refused one.
    "procuratorate_handler": ({"filed", "refused", "penalty"}, True),
    "office_supervisor": ({"filed", "refused", "penalty", "fresh"}, False),
    "admin": ({"filed", "refused", "penalty", "fresh"}, False),
}


def test_who_sees_which_rows(session, users, world):
    numbers = {case.number: name for name, case in world.items()}
    for username, (cases, secret_title) in VISIBLE.items():
        items = rows(session, users[username])
        assert {numbers[r.case_number] for r in items} == cases, username
        titles = {r.case_title for r in items if r.case_number == world["refused"].number}
        assert titles == ({"乙公司源代码泄露案"} if secret_title else {None}), username
        assert all(r.case_title == world[numbers[r.case_number]].title
                   for r in items if r.case_number != world["refused"].number), username


def test_filters_and_paging(session, users, world):
    supervisor = users["office_supervisor"]
    assert {r.case_number for r in rows(session, supervisor, mechanism="filing")} == {
        world["filed"].number, world["refused"].number}
    assert [(r.case_number, r.mechanism) for r in rows(session, supervisor, state="not_filed")] == [
        (world["refused"].number, "filing"), (world["refused"].number, "transfer")]
    assert {(r.case_number, r.mechanism) for r in rows(session, supervisor, since=at(5, 0), until=at(10, 0))} == {
        (world["refused"].number, "filing"), (world["refused"].number, "supervision"),
        (world["penalty"].number, "penalty"), (world["penalty"].number, "transfer")}
    assert {r.case_number for r in rows(session, supervisor, agency="procuratorate")} == {
        world["filed"].number, world["refused"].number, world["penalty"].number}
    first = register_page(session, supervisor, RegisterFilter(), page=1, per_page=3)
    second = register_page(session, supervisor, RegisterFilter(), page=2, per_page=3)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (8, 3, 3, 3)
    assert not {id(r) for r in first.items} & {id(r) for r in second.items}
    assert [(r.case_number, r.mechanism) for r in first.items + second.items] == [
        (r.case_number, r.mechanism) for r in rows(session, supervisor)][:6]
    for bad, field in ((RegisterFilter(mechanism="nope"), "mechanism"), (RegisterFilter(state="nope"), "state"),
                       (RegisterFilter(since=at(9), until=at(2)), "until")):
        with pytest.raises(InvalidInput) as raised:
            register_page(session, supervisor, bad)
        assert field in raised.value.errors


def test_a_page_costs_the_same_statements_whatever_its_length(session, users, world):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    supervisor = users["office_supervisor"]
    supervisor.memberships  # noqa: B018 - loaded before counting, as a logged-in request has them
    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        counts = []
        for per_page in (1, 100):
            seen.clear()
            register_page(session, supervisor, RegisterFilter(), per_page=per_page)
            counts.append(len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]))
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert counts == [4, 4]


def test_the_register_is_in_the_engine_surface():
    assert "register_page" in engine.__all__ and "transfer" in engine.REGISTER_MECHANISMS


def test_a_penalty_published_then_withdrawn(session, users, clock):
    """The disclosure's later milestones: publication, and withdrawal after the decision is quashed,
    which ends the instance (the withdrawal is then its outcome)."""
    from tests.engine.test_penalty_disclosure import PUBLICATION, QUASH

    clock.set(at(2))
    case = create_case(session, users["samr_handler"], "戊公司行政处罚案")
    start_mechanism(session, users["samr_handler"], case.id, "penalty_disclosure")
    act(session, users["samr_handler"], case.id, "record_penalty_decision", {**DECISION, "trade_secret_matter": False})
    clock.set(at(9))
    act(session, users["samr_handler"], case.id, "publish_penalty_information", PUBLICATION)
    [row] = rows(session, users["samr_handler"], mechanism="penalty")
    assert (row.state, row.dates, row.outcome) == ("published", {"decided": at(2), "published": at(9)}, None)

    clock.set(datetime(2026, 5, 6, 10, 0, tzinfo=SHANGHAI))
    start_mechanism(session, users["samr_handler"], case.id, "penalty_quash")
    act(session, users["samr_handler"], case.id, "record_penalty_quash", QUASH)
    assert deliver_pending(session) == 1
    clock.set(datetime(2026, 5, 7, 10, 0, tzinfo=SHANGHAI))
    act(session, users["samr_handler"], case.id, "withdraw_penalty_information",
        {"withdrawn_on": "2026-05-07", "withdrawn": True})
    [row] = rows(session, users["samr_handler"], mechanism="penalty")
    assert (row.state, row.status, row.outcome) == ("withdrawn", "completed", "withdrawn")
    assert row.dates["withdrawn"] == datetime(2026, 5, 7, 10, 0, tzinfo=SHANGHAI) and row.key_date == at(2)
    assert [r.case_number for r in rows(session, users["samr_handler"], state="withdrawn")] == [case.number]
