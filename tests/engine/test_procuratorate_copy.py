"""The procuratorate's copy of a transfer is real (DOMAIN §1, §1b): sending the transfer makes it an
observing participant of the case, told through its liaisons; it reads the letter, the timeline and
the decisions but works on nothing of the others; it may open 立案监督 on its own motion; and every
不予立案, refused or abandoned transfer and missed police deadline is reported to it.

Through the engine on the real diagrams, on SQLite and PostgreSQL, the clock moved by hand and
timers and messages handled by the worker's functions.
"""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import select

import engine
from engine import (
    Forbidden,
    NotFound,
    case_documents,
    case_timeline,
    claim_task,
    create_case,
    deliver_pending,
    open_document,
    policy,
    start_mechanism,
    startable_mechanisms,
    verify_audit,
    visible_case,
)
from engine.oversight import notifications
from engine.oversight.notification_mail import MailSettings, compose
from engine.worker.timers import fire_due_timers
from models import NOTIFICATION_KINDS, AuditEvent, Case, CaseParticipant, HumanTask, Notification, case_chain
from tests.conftest import SHANGHAI, START
from tests.engine.test_transfer_outcomes import UPHELD, reconsidered
from tests.engine.test_transfer_paths import supplement_round
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    NOT_FILE,
    RECEIPT,
    act,
    event_types,
    open_task,
    police_decide,
    transferred,
)

PROCURATORATE = ("procuratorate_handler", "procuratorate_head", "procuratorate_liaison")


def roles(session, case_id: int) -> dict[str, str]:
    session.expire_all()
    case = session.get(Case, case_id)
    return {p.agency.code: p.role for p in case.participants}


def notices(session, case_id: int) -> list[tuple[str, str, int | None]]:
    """(recipient, kind, task id) of the case's notifications that are not about a task."""
    return [(n.recipient.username, n.kind, n.task_id) for n in session.scalars(
        select(Notification).where(Notification.case_id == case_id, Notification.task_id.is_(None))
        .order_by(Notification.id))]


def details(session, case_id: int, event_type: str) -> list[dict]:
    return list(session.scalars(select(AuditEvent.detail).where(
        AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == event_type).order_by(AuditEvent.seq)))


def _evidence(session, store, user, case_id: int, confidential: bool):
    fields = {"kind": "documentary", "description": "配方文件", "source": "权利人提交", "collected_at": START,
              "collector_1": "王承办", "collector_2": "李承办", "confidential": confidential}
    return engine.add_evidence(session, store, user, case_id, fields, io.BytesIO(b"%PDF-1.4 x\n"), "配方.pdf")


@pytest.fixture
def store(tmp_path):
    return engine.EvidenceStore(tmp_path / "evidence", 1024 * 1024)


def test_sending_the_transfer_makes_the_procuratorate_an_observer(session, users, store):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    assert "procuratorate" not in roles(session, case.id), "not before the letter is sent"
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)

    assert roles(session, case.id) == {"samr": "party", "police": "party", "procuratorate": "observer"}
    [joined] = details(session, case.id, "observer_joined")
    assert joined == {"agency": "procuratorate", "reason": "transfer_sent"}
    # Its liaison hears of the copy (a notice about the case, no task); nobody else of its agency.
    assert notices(session, case.id) == [("procuratorate_liaison", "case_copied", None)]
    assert verify_audit(session, case.id) == []

    liaison = users["procuratorate_liaison"]
    seen = visible_case(session, liaison, case.id)
    assert [d.kind for d in case_documents(session, liaison, case.id)] == ["transfer_letter"]
    letter = open_document(session, liaison, case_documents(session, liaison, case.id)[0].id)
    assert "人民检察院" in str(letter.content["copy_to"])
    assert "observer_joined" in [e.event_type for e in case_timeline(session, seen)]
    facts = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.bpmn_id == "register_facts"))
    decision = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                      HumanTask.bpmn_id == "decide_transfer"))
    for username in PROCURATORATE:
        user = users[username]
        assert policy.is_observer(session, user, seen) and not policy.is_party(session, user, seen)
        assert policy.can_view_task_content(session, user, decision) and policy.can_view_task_content(session, user, facts)
        # Reading only: no evidence of its own, no comments, no drafting on the others' case.
        assert not policy.can_add_evidence(session, user, seen)
        assert not policy.can_comment(session, user, decision)
        assert not policy.can_generate_document(session, user, seen)
        assert not policy.can_supervise_case(session, user, seen)

    # The police's task is not the procuratorate's to claim.
    receipt = open_task(session, case.id, "accept_receipt")
    for username in PROCURATORATE:
        with pytest.raises(Forbidden):
            claim_task(session, users[username], receipt.id)

    secret = _evidence(session, store, users["samr_handler"], case.id, confidential=True)
    plain = _evidence(session, store, users["samr_handler"], case.id, confidential=False)
    with pytest.raises(Forbidden):
        engine.open_evidence(session, store, users["procuratorate_handler"], secret.id)
    opened = engine.open_evidence(session, store, users["procuratorate_handler"], plain.id)
    opened.stream.close()


def test_the_letter_copied_once_however_often_the_police_send_back(session, users):
    case = transferred(session, users)
    for _ in range(2):
        supplement_round(session, users, case.id)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    assert len(details(session, case.id, "observer_joined")) == 1
    assert notices(session, case.id) == [("procuratorate_liaison", "case_copied", None)]


def test_the_procuratorate_opens_filing_supervision_on_its_own_motion(session, users):
    case = transferred(session, users)
    prosecutor, liaison = users["procuratorate_handler"], users["procuratorate_liaison"]
    models = startable_mechanisms(session, prosecutor, session.get(Case, case.id))
    # What names the procuratorate, not what any party may start (consultation, evidence, sharing).
    assert {"filing_supervision", "procuratorial_opinion"} <= {m.key for m in models}
    assert all(any(lane.startswith("procuratorate.") for lane in m.startable_by) for m in models)
    assert startable_mechanisms(session, liaison, session.get(Case, case.id)) == []
    with pytest.raises(Forbidden):
        start_mechanism(session, liaison, case.id, "filing_supervision")
    instance = start_mechanism(session, prosecutor, case.id, "filing_supervision")
    examine = open_task(session, case.id, "examine_supervision")
    assert (examine.lane, examine.instance_id) == ("procuratorate.handler", instance.id)
    # With a task of its own the procuratorate works on the case: a party now.
    assert roles(session, case.id)["procuratorate"] == "party"
    assert policy.can_add_evidence(session, prosecutor, session.get(Case, case.id))
    assert verify_audit(session, case.id) == []


def test_an_untransferred_case_stays_closed_to_the_procuratorate(session, users):
    case = create_case(session, users["samr_handler"], "尚未移送")
    with pytest.raises(NotFound):
        visible_case(session, users["procuratorate_liaison"], case.id)
    with pytest.raises(NotFound):
        start_mechanism(session, users["procuratorate_handler"], case.id, "filing_supervision")


def test_a_non_filing_is_reported_when_it_is_sent(session, users):
    case = transferred(session, users)
    police_decide(session, users, case.id, NOT_FILE)
    [report] = details(session, case.id, "non_filing_reported")
    assert report == {"agency": "procuratorate", "element": "send_filing_decision"}
    assert notices(session, case.id)[-1] == ("procuratorate_liaison", "non_filing_reported", None)
    kinds = [d.kind for d in case_documents(session, users["procuratorate_liaison"], case.id)]
    assert {"transfer_letter", "receipt", "non_filing_notice"} <= set(kinds), kinds
    assert verify_audit(session, case.id) == []


def test_a_filing_is_not_reported(session, users):
    case = transferred(session, users)
    police_decide(session, users, case.id, FILE)
    assert "non_filing_reported" not in event_types(session, case.id)
    assert [kind for _, kind, _ in notices(session, case.id)] == ["case_copied"]


def test_a_reconsideration_upholding_the_non_filing_is_reported(session, users, clock):
    case = reconsidered(session, users, clock, UPHELD)
    assert [kind for _, kind, _ in notices(session, case.id)] == [
        "case_copied", "non_filing_reported", "non_filing_upheld_reported"]
    assert "non_filing_upheld_reported" in event_types(session, case.id)


def test_a_refused_transfer_is_reported_and_the_procuratorate_observes_the_case(session, users):
    case = create_case(session, users["samr_handler"], "不移送")
    act(session, users["samr_handler"], case.id, "register_facts", {**FACTS_500K, "loss_amount": 1000})
    act(session, users["samr_head"], case.id, "decide_transfer", {"transfer_approved": False, "reasons": "未达到追诉标准",
                                                                  "administrative_penalty": False})
    assert roles(session, case.id) == {"samr": "party", "procuratorate": "observer"}
    assert details(session, case.id, "observer_joined") == [{"agency": "procuratorate",
                                                            "reason": "transfer_refused_reported"}]
    assert details(session, case.id, "transfer_refused_reported") == [
        {"agency": "procuratorate", "element": "transfer_refused"}]
    # One notice: the report is what copies it.
    assert notices(session, case.id) == [("procuratorate_liaison", "transfer_refused_reported", None)]
    decision = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                      HumanTask.bpmn_id == "decide_transfer"))
    assert policy.can_view_task_content(session, users["procuratorate_liaison"], decision), "the refusal's reasons"
    assert verify_audit(session, case.id) == []


def test_a_transfer_refused_for_an_administrative_penalty_is_reported(session, users):
    case = create_case(session, users["samr_handler"], "转行政处罚")
    act(session, users["samr_handler"], case.id, "register_facts", {**FACTS_500K, "loss_amount": 1000})
    act(session, users["samr_head"], case.id, "decide_transfer",
        {"transfer_approved": False, "reasons": "未达到追诉标准，依法行政处罚", "administrative_penalty": True})
    assert details(session, case.id, "transfer_refused_reported") == [
        {"agency": "procuratorate", "element": "transfer_to_administrative_penalty"}]
    assert notices(session, case.id) == [("procuratorate_liaison", "transfer_refused_reported", None)]
    assert roles(session, case.id)["procuratorate"] == "observer"


def test_an_abandoned_transfer_is_reported(session, users):
    case = create_case(session, users["samr_handler"], "多次退回")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    for _ in range(5):
        act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
        act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff",
            {"handoff_approved": False, "comment": "缺涉案物品清单"})
    assert "transfer_abandoned_reported" in event_types(session, case.id)
    assert notices(session, case.id) == [("procuratorate_liaison", "transfer_abandoned_reported", None)]
    assert roles(session, case.id)["procuratorate"] == "observer"


def test_a_missed_police_deadline_is_reported_with_the_deadline(session, users, clock):
    case = transferred(session, users)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    decide = open_task(session, case.id, "decide_filing")
    due = decide.due_at
    clock.set(datetime(2026, 3, 6, 8, 30, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1
    [report] = details(session, case.id, "filing_overdue_reported")
    assert report == {"agency": "procuratorate", "element": "decide_filing_overdue", "due_at": due.isoformat()}
    [notice] = session.scalars(select(Notification).where(Notification.kind == "filing_overdue_reported"))
    assert (notice.recipient.username, notice.params["due_at"], notice.params["actor"]) == (
        "procuratorate_liaison", due.isoformat(), None)
    # The clue the diagram sends starts 立案监督: its first task makes the procuratorate a party.
    assert deliver_pending(session) >= 1
    assert open_task(session, case.id, "examine_supervision").lane == "procuratorate.handler"
    assert roles(session, case.id)["procuratorate"] == "party"
    assert session.scalar(select(CaseParticipant.role).where(
        CaseParticipant.case_id == case.id, CaseParticipant.role == "observer")) is None
    assert verify_audit(session, case.id) == []


def test_the_register_shows_the_observed_case(session, users):
    case = transferred(session, users)
    other = create_case(session, users["samr_handler"], "尚未移送")
    rows = engine.register_page(session, users["procuratorate_liaison"]).items
    assert {r.case_id for r in rows} == {case.id} and other.id != case.id
    assert {r.case_title for r in rows} == {case.title}


def test_a_secret_case_shows_the_observer_its_steps_but_not_its_content(session, users):
    case = create_case(session, users["samr_handler"], "涉密案件", "secret")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    prosecutor = users["procuratorate_handler"]
    seen = visible_case(session, prosecutor, case.id)
    assert "observer_joined" in [e.event_type for e in case_timeline(session, seen)]
    # Content of a secret case is for the users assigned to it: the letter too, and what starts work.
    assert case_documents(session, prosecutor, case.id) == []
    assert startable_mechanisms(session, prosecutor, seen) == []


@pytest.mark.parametrize("kind", [notifications.CASE_COPIED, *notifications.OBSERVER_REPORTS])
def test_each_notice_to_the_observer_is_a_known_kind_and_mails_in_chinese(kind):
    at = datetime(2026, 3, 6, 8, 30, tzinfo=SHANGHAI)
    row = Notification(id=1, recipient_id=1, kind=kind, case_id=1, task_id=None, created_at=at,
                       params={"title": "", "case_title": "某案", "case_number": "LD2026-00001",
                               "due_at": at.isoformat(), "actor": None})
    mail = compose(row, "liaison@example.org", MailSettings(enabled=True))
    assert kind in NOTIFICATION_KINDS
    assert "LD2026-00001" in mail["Subject"] and "LD2026-00001" in mail.get_content()
    assert "某案" not in mail.get_content(), "mail carries the case number only"


def test_two_mechanisms_reacting_to_one_element_both_run():
    from engine.mechanisms.reactions import _joined

    ran: list[str] = []
    table = _joined({"case_transfer": {"send_transfer": lambda r: ran.append("first")}},
                    {"case_transfer": {"send_transfer": lambda r: ran.append("second"),
                                       "transfer_refused": lambda r: ran.append("third")}})
    table["case_transfer"]["send_transfer"](None)  # type: ignore[arg-type]
    assert ran == ["first", "second"] and set(table["case_transfer"]) == {"send_transfer", "transfer_refused"}
