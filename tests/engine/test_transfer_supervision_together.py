"""立案协助 and 立案监督 together: both real diagrams through the engine, the demo users acting in
each lane, the worker's pass (`engine.worker.drain`: due timers, then the outbox) run after every
step as the background worker would, and time moved on the FixedClock (Monday 2 March 2026, 09:00).

case_transfer throws `filing_supervision_requested`, which starts a filing_supervision instance on
the case; for a SAMR request, filing_supervision throws `filing_supervision_concluded` back to the
transfer's waiting SAMR pool from its own SAMR pool, once SAMR's liaison has signed for what ends
the supervision. Nothing is written to the outbox by hand here. Liaisons have 24 hours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import FixedClock, verify_audit
from engine.worker.passes import Pass, drain
from models import Document, Message, ProcessInstance, Timer, User
from tests.conftest import SHANGHAI
from tests.engine.test_transfer_outcomes import ASK_SUPERVISION, PENALTY, RECONSIDER, UPHELD
from tests.engine.test_transfer_paths import end_of
from tests.helpers import (
    FILE,
    HANDOVER,
    NO_DISCREPANCY,
    NOT_FILE,
    RECEIPT,
    RECEIVED,
    RELEASE,
    act,
    event_types,
    open_task,
    open_tasks,
    transferred,
)
from tests.workflows.test_filing_supervision_diagram import (
    CLOSE,
    EXAMINE,
    EXPLAIN,
    FAIL,
    FILED,
    FILED_SUMMARY,
    HOLD,
    NOTICE,
    ORDER,
    OUTCOME,
    REVIEW_OVERDUE,
)


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


@dataclass
class Desk:
    """The case's open tasks, worked by the demo user of each task's lane (`police_liaison` works
    `police.liaison`), with the worker's pass after every step."""
    session: Session
    users: dict[str, User]
    clock: FixedClock
    case_id: int

    def __call__(self, username: str, bpmn_id: str, data: dict, due: datetime | None = None,
                 when: datetime | None = None, process: str | None = None):
        if when is not None:
            self.clock.set(when)
        task = open_task(self.session, self.case_id, bpmn_id)
        assert (task.lane, task.due_at) == (username.replace("_", ".", 1), due), bpmn_id
        if process is not None:
            assert self.instance_of(task).process_model.key == process, bpmn_id
        done = act(self.session, self.users[username], self.case_id, bpmn_id, data)
        assert (done.state, done.completed_by_id) == ("completed", self.users[username].id), bpmn_id
        self.worker()
        return done

    def worker(self) -> Pass:
        """One run of the background worker: due timers fired, then the outbox delivered."""
        return drain(self.session)

    def instance_of(self, task) -> ProcessInstance:
        return self.session.get(ProcessInstance, task.instance_id)

    def instances(self) -> dict[str, ProcessInstance]:
        rows = self.session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id)
                                    .order_by(ProcessInstance.id).execution_options(populate_existing=True))
        return {row.process_model.key: row for row in rows}

    def open(self) -> list[tuple[str, str]]:
        return sorted((t.bpmn_id, t.lane) for t in open_tasks(self.session, self.case_id))

    def documents(self) -> list[tuple[str, str]]:
        return [(d.kind, d.number) for d in self.session.scalars(
            select(Document).where(Document.case_id == self.case_id).order_by(Document.id))]

    def messages(self) -> list[tuple[str, str, dict]]:
        return [(m.name, m.status, m.payload) for m in self.session.scalars(
            select(Message).where(Message.case_id == self.case_id).order_by(Message.id)
            .execution_options(populate_existing=True))]


RETURNED_FILES = {"returned_items": "移送案卷｜1｜完好\n涉案U盘｜2｜封存完好"}
FILES_CHECKED = {"return_discrepancies_found": False, "return_discrepancies": ""}


def desk(session, users, clock) -> Desk:
    case = transferred(session, users, "某精密机械公司技术秘密被侵犯案")
    return Desk(session, users, clock, case.id)


def refused_and_upheld(play: Desk) -> None:
    """Monday 2 to Monday 9 March: the police refuse, SAMR asks for reconsideration, the police
    head upholds the refusal, SAMR asks the procuratorate for filing supervision."""
    play("police_liaison", "accept_receipt", RECEIPT, due=at(3, 9), when=at(2, 14), process="case_transfer")
    # The police's 3 days from acceptance (Monday 14:00) end on Thursday 5: on the head's decision.
    play("police_handler", "review_case", {"recommendation": "not_file", "opinion": "损失计算依据不足"}, when=at(4))
    play("police_head", "decide_filing", NOT_FILE, due=end_of(5))
    play("police_liaison", "approve_filing_notice_handoff", RELEASE, due=at(5))
    play("samr_liaison", "accept_filing_notice", RECEIVED, due=at(5), when=at(4, 11))
    # The files go back with the notice: 3 days from the decision (Wednesday 4) end on Saturday 7,
    # a rest day, so on Monday 9.
    play("police_handler", "return_materials", RETURNED_FILES, due=end_of(9))
    play("police_liaison", "approve_return_handoff", RELEASE, due=at(5, 11))
    play("samr_liaison", "accept_returned_materials", RECEIVED, due=at(5, 11))
    play("samr_handler", "check_returned_materials", FILES_CHECKED, due=at(5, 11))
    play("samr_handler", "acknowledge_decision", RECONSIDER, due=end_of(9), when=at(5))
    play("samr_liaison", "approve_reconsideration_handoff", RELEASE, due=at(6))
    play("police_liaison", "accept_reconsideration_request", RECEIVED, due=at(6), when=at(5, 11))
    play("police_head", "decide_reconsideration", UPHELD, due=end_of(9), when=at(6))
    play("police_liaison", "approve_reconsideration_decision_handoff", RELEASE, due=at(7))
    play("samr_liaison", "accept_reconsideration_decision", RECEIVED, due=at(7), when=at(6, 11))
    play("samr_handler", "consider_supervision", ASK_SUPERVISION, due=end_of(9), when=at(9))
    assert play.messages() == []
    play("samr_liaison", "approve_supervision_handoff", RELEASE, due=at(10))
    # The worker delivered the request: a filing_supervision instance runs on the case.
    assert play.messages() == [("filing_supervision_requested", "delivered", {
        "supervision_trigger": "samr_request", "non_filing_reasons": UPHELD["reconsideration_reasons"],
        "samr_request_reasons": ASK_SUPERVISION["samr_request_reasons"]})]
    assert {k: i.status for k, i in play.instances().items()} == {
        "case_transfer": "running", "filing_supervision": "running"}
    assert play.open() == [("examine_supervision", "procuratorate.handler")], "SAMR waits, the prosecutor acts"


def explained(play: Desk) -> None:
    """Tuesday 10 to Friday 13 March: the procuratorate asks, the police explain within 7 days."""
    play("procuratorate_handler", "examine_supervision", EXAMINE, when=at(10), process="filing_supervision")
    play("procuratorate_liaison", "send_explain_request", RELEASE, due=at(11))
    play("police_liaison", "accept_explain_request", RECEIVED, due=at(11), when=at(10, 11))
    play("police_handler", "explain_non_filing", EXPLAIN, due=end_of(17), when=at(13))
    play("police_liaison", "send_explanation", RELEASE, due=at(14))
    play("procuratorate_liaison", "receive_explanation", RECEIVED, due=at(14), when=at(13, 11))


def test_supervision_gets_the_refused_transfer_filed_and_handed_over(session, users, clock):
    play = desk(session, users, clock)
    refused_and_upheld(play)
    explained(play)
    play("procuratorate_handler", "assess_explanation", FAIL, when=at(16))
    play("procuratorate_head", "issue_filing_order", ORDER, when=at(16, 15))
    play("procuratorate_liaison", "send_filing_order", RELEASE, due=at(17, 15))
    play("police_liaison", "accept_filing_order", RECEIVED, due=at(17, 15), when=at(16, 16))
    play("police_head", "file_on_notice", FILED, due=end_of(31), when=at(17))
    # The police issue the 立案通知书 to SAMR, the transferring organ, with their filing.
    assert play.documents()[-1] == ("filing_notice", "东公立〔2026〕1号")
    play("police_liaison", "send_filing_report", RELEASE, due=at(18))
    play("procuratorate_liaison", "receive_filing_report", RECEIVED, due=at(18), when=at(17, 11))
    play("procuratorate_handler", "record_outcome", OUTCOME, when=at(17, 14))
    assert [m[:2] for m in play.messages()] == [("filing_supervision_requested", "delivered")]
    assert play.open() == [("send_filing_notice", "police.liaison")], "the transfer waits for SAMR's receipt"
    play("police_liaison", "send_filing_notice", RELEASE, due=at(18), when=at(17, 15))
    play("samr_liaison", "accept_police_filing_notice", RECEIVED, due=at(18, 15), when=at(18, 11))

    # SAMR's liaison signed on Wednesday 18: only now does the supervision answer the transfer,
    # and the worker delivers it to the waiting SAMR pool.
    assert play.messages()[1] == ("filing_supervision_concluded", "delivered", {
        "supervision_outcome": "filed_on_notice", "supervision_summary": FILED_SUMMARY,
        "legal_events": {"filing_notice_received": "2026-03-18T03:00:00+00:00"}})
    assert play.instances()["filing_supervision"].status == "completed"
    assert play.open() == [("prepare_handover", "samr.handler")]
    # Three days from the receipt (Wednesday 18; Saturday 21 moves to Monday 23), not from the
    # police's filing on Tuesday 17 (which would have been Friday 20).
    play("samr_handler", "prepare_handover", HANDOVER, due=end_of(23), when=at(18, 14))
    play("samr_liaison", "approve_handover_handoff", RELEASE, due=at(19, 14))
    play("police_liaison", "accept_handover", RECEIVED, due=at(19, 14), when=at(18, 15))
    play("police_handler", "confirm_handover", NO_DISCREPANCY, due=at(19, 15), when=at(19))
    play("police_liaison", "approve_handover_confirmation_handoff", RELEASE, due=at(20))
    play("samr_liaison", "accept_handover_confirmation", RECEIVED, due=at(20), when=at(19, 11))

    assert {k: i.status for k, i in play.instances().items()} == {
        "case_transfer": "completed", "filing_supervision": "completed"}
    assert play.open() == []
    assert play.documents() == [
        ("transfer_letter", "东市监移〔2026〕1号"), ("receipt", "东公收〔2026〕1号"),
        ("non_filing_notice", "东公不立〔2026〕1号"), ("returned_materials_receipt", "东市监退收〔2026〕1号"),
        ("reconsideration_request", "东市监复议〔2026〕1号"),
        ("reconsideration_decision", "东公复〔2026〕1号"), ("filing_supervision_proposal", "东市监监建〔2026〕1号"),
        ("explain_request", "东检要说〔2026〕1号"), ("filing_order", "东检通立〔2026〕1号"),
        ("filing_decision_record", "东公立字〔2026〕1号"), ("filing_notice", "东公立〔2026〕1号"),
        ("handover_list", "东市监交〔2026〕1号")]
    events = event_types(session, play.case_id)
    assert events.count("document_generated") == 12
    # Every liaison step is a handoff: eleven crossings' halves in the transfer before the request
    # (the returned files among them), five crossings of the supervision (the 立案通知书 to SAMR
    # among them), two of the handover.
    assert events.count("handoff_approved") == 11 + 10 + 4
    assert events.count("task_created") == events.count("task_completed") + events.count("task_cancelled")
    linkage = ("instance_started", "message_sent", "message_delivered", "instance_completed")
    assert [e for e in events if e in linkage] == [
        "instance_started",                                         # the transfer
        "message_sent", "instance_started", "message_delivered",    # SAMR's request starts the supervision
        "message_sent", "instance_completed", "message_delivered",  # its conclusion reaches the transfer
        "instance_completed"]                                       # the transfer, after the handover
    assert "message_failed" not in events and "timer_fired" not in events
    assert verify_audit(session, play.case_id) == []


def test_supervision_finds_the_reasons_hold_and_the_case_returns_to_samr(session, users, clock):
    play = desk(session, users, clock)
    refused_and_upheld(play)
    explained(play)
    play("procuratorate_handler", "assess_explanation", HOLD, when=at(16))
    # SAMR is told within ten days of the finding (Monday 16): by Thursday 26 March.
    play("procuratorate_handler", "notify_samr", NOTICE, due=end_of(26), when=at(17))
    play("procuratorate_liaison", "send_supervision_notice", RELEASE, due=at(18))
    # The notice is sent, but the transfer waits until SAMR has signed for it and taken note.
    assert [m[:2] for m in play.messages()] == [("filing_supervision_requested", "delivered")]
    assert play.open() == [("accept_assessment", "police.liaison"), ("accept_supervision_notice", "samr.liaison")]
    play("police_liaison", "accept_assessment", RECEIVED, due=at(18), when=at(17, 11))
    play("samr_liaison", "accept_supervision_notice", RECEIVED, due=at(18))
    assert play.open() == [("acknowledge_supervision_notice", "samr.handler")], "one task at a time for SAMR"
    assert len(play.messages()) == 1
    play("samr_handler", "acknowledge_supervision_notice", {"acknowledged": True}, when=at(17, 14))
    assert play.messages()[1] == ("filing_supervision_concluded", "delivered", {
        "supervision_outcome": "reasons_hold", "supervision_summary": NOTICE["supervision_summary"]})
    assert play.instances()["filing_supervision"].status == "completed"
    assert play.open() == [("record_administrative_penalty", "samr.handler")]
    # Reverse linkage: the transfer's SAMR pool takes the case back for an administrative penalty.
    play("samr_handler", "record_administrative_penalty", PENALTY)
    assert {k: i.status for k, i in play.instances().items()} == {
        "case_transfer": "completed", "filing_supervision": "completed"}
    assert [kind for kind, _number in play.documents()] == [
        "transfer_letter", "receipt", "non_filing_notice", "returned_materials_receipt", "reconsideration_request",
        "reconsideration_decision",
        "filing_supervision_proposal", "explain_request"]
    events = event_types(session, play.case_id)
    assert events.count("message_delivered") == 2 and events.count("instance_completed") == 2
    assert verify_audit(session, play.case_id) == []


def decision_timer(play: Desk) -> Timer:
    return play.session.scalars(select(Timer).where(
        Timer.case_id == play.case_id, Timer.bpmn_id == "decide_filing_overdue")
        .execution_options(populate_existing=True)).one()


UNDER_REVIEW = [("decide_filing", "police.head"), ("examine_supervision", "procuratorate.handler"),
                ("extend_review", "police.head"), ("review_case", "police.handler")]


def test_a_missed_decision_deadline_opens_a_supervision_while_the_review_goes_on(session, users, clock):
    play = desk(session, users, clock)
    play("police_liaison", "accept_receipt", RECEIPT, due=at(3, 9), when=at(2, 14))
    clock.set(at(5, 23))
    assert play.worker().timers == 0 and play.messages() == []
    clock.set(at(6, 8))  # Friday morning: the decision was due by the end of Thursday
    done = play.worker()
    assert (done.timers, done.messages) == (1, 1)
    assert play.messages() == [("filing_supervision_requested", "delivered", REVIEW_OVERDUE)]
    assert decision_timer(play).status == "fired"
    assert {k: i.status for k, i in play.instances().items()} == {
        "case_transfer": "running", "filing_supervision": "running"}
    assert play.open() == UNDER_REVIEW

    # The police file late but normally; SAMR takes the notice and hands the items over.
    play("police_handler", "review_case", {"recommendation": "file", "opinion": "建议立案"}, when=at(6, 9))
    play("police_head", "decide_filing", FILE, due=end_of(5))
    play("police_liaison", "approve_filing_notice_handoff", RELEASE, due=at(7, 9))
    play("samr_liaison", "accept_filing_notice", RECEIVED, due=at(7, 9), when=at(6, 11))
    # Filed: the handler hands over (asked nothing about objections), three days from SAMR's
    # receipt of the filing notice (Friday 6), done on Monday 9.
    play("samr_handler", "prepare_handover", HANDOVER, due=end_of(9), when=at(9))
    play("samr_liaison", "approve_handover_handoff", RELEASE, due=at(10))
    play("police_liaison", "accept_handover", RECEIVED, due=at(10), when=at(9, 15))
    play("police_handler", "confirm_handover", NO_DISCREPANCY, due=at(10, 15), when=at(10))
    play("police_liaison", "approve_handover_confirmation_handoff", RELEASE, due=at(11))
    play("samr_liaison", "accept_handover_confirmation", RECEIVED, due=at(11), when=at(10, 11))
    assert play.instances()["case_transfer"].status == "completed"

    # The prosecutor, seeing the case filed, closes the supervision; nobody waits for an answer.
    play("procuratorate_handler", "examine_supervision", CLOSE, when=at(11))
    assert play.instances()["filing_supervision"].status == "completed"
    clock.set(at(30))
    play.worker()
    assert play.messages() == [("filing_supervision_requested", "delivered", REVIEW_OVERDUE)]
    events = event_types(session, play.case_id)
    assert "message_failed" not in events and events.count("timer_fired") == 1
    assert verify_audit(session, play.case_id) == []


def test_an_extended_decision_is_reported_overdue_at_its_new_due_time(session, users, clock):
    play = desk(session, users, clock)
    play("police_liaison", "accept_receipt", RECEIPT, due=at(3, 9), when=at(2, 14))
    play("police_head", "extend_review", {"review_period": "10d", "extension_reasons": "需调取银行流水"},
         when=at(3))
    assert open_task(session, play.case_id, "decide_filing").due_at == end_of(12)
    assert (decision_timer(play).due_at, decision_timer(play).status) == (end_of(12), "pending")
    clock.set(at(6, 8))  # past the first three days: nothing fires, nothing is sent
    assert play.worker().timers == 0
    assert play.messages() == [] and "filing_supervision" not in play.instances()
    clock.set(end_of(12).replace(hour=23, minute=59, second=58))
    assert play.worker().timers == 0
    clock.set(end_of(12))
    assert (play.worker().timers, decision_timer(play).status) == (1, "fired")
    assert play.messages() == [("filing_supervision_requested", "delivered", REVIEW_OVERDUE)]
    assert play.instances()["filing_supervision"].status == "running"
    assert play.open() == UNDER_REVIEW, "the review goes on, 30 days still possible"
    assert verify_audit(session, play.case_id) == []
