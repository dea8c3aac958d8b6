"""案情会商 action items through the engine: typed in the minutes, opened as a mechanism started
or a task in an agency's inbox with its deadline, and tracked to done or cancelled, audited."""
from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest
from sqlalchemy import select

from engine import (
    InvalidInput,
    claim_task,
    complete_task,
    create_case,
    deliver_pending,
    deploy_paths,
    inbox,
    overdue_tasks,
    start_mechanism,
    verify_audit,
)
from engine.casework.documents import case_documents
from engine.mechanisms.consultation_actions import case_items, parse_plan
from engine.oversight.notifications import scan_deadlines
from models import AuditEvent, ConsultationActionItem, Message, Notification, ProcessInstance
from tests.conftest import ROOT, SHANGHAI
from tests.engine.test_consultation import MINUTES, PROPOSAL, answer, invite
from tests.helpers import act, event_types, open_task, open_tasks

PLAN = "启动｜证据互认\n交办｜公安｜5｜调取涉案账户的银行流水\n交办｜检察院｜3｜就损失认定提出书面意见"
WORKFLOWS = ROOT / "workflows"
# Five working days from Monday 2 March 2026 (the minutes are recorded that day).
FIVE_WD = datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def case(session, users):
    # A case with no mechanism running yet (as a triaged clue opens one).
    return create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案", mechanisms=[])


def to_minutes(session, users, case) -> None:
    invite(session, users, case, {**PROPOSAL, "invited_agencies": ["police", "procuratorate"]})
    for code in ("police", "procuratorate"):
        answer(session, users, case, code, {"opinion": f"{code} 的意见"})


def items(session, case_id) -> list[ConsultationActionItem]:
    return list(session.scalars(select(ConsultationActionItem).where(ConsultationActionItem.case_id == case_id)
                                .order_by(ConsultationActionItem.id).execution_options(populate_existing=True)))


def carry_out(session, user, item, data) -> None:
    [task] = [t for t in open_tasks(session, item.case_id) if t.instance_id == item.instance_id]
    claim_task(session, user, task.id)
    complete_task(session, user, task.id, data)


def keys_running(session, case_id) -> list[str]:
    return [i.process_model.key for i in session.scalars(
        select(ProcessInstance).where(ProcessInstance.case_id == case_id, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id))]


def test_minutes_start_a_mechanism_and_give_agencies_tasks_with_deadlines(session, users, case):
    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes", {**MINUTES, "action_plan": PLAN})

    recorded = items(session, case.id)
    assert [(i.position, i.kind, i.mechanism, i.agency.code, i.deadline_rule, i.state) for i in recorded] == [
        (1, "mechanism", "evidence_recognition", "samr", None, "done"),
        (2, "task", None, "police", "5wd", "open"),
        (3, "task", None, "procuratorate", "3wd", "open")]
    started = session.get(ProcessInstance, recorded[0].instance_id)
    assert started.process_model.key == "evidence_recognition" and started.started_by_id == users["samr_handler"].id
    assert (recorded[0].closed_by_id, recorded[0].closed_at) == (users["samr_handler"].id, recorded[0].created_at)
    assert "evidence_recognition" in keys_running(session, case.id)

    # Each task item is a task in its agency's liaison lane, due when the minutes said.
    police_task = next(t for t in open_tasks(session, case.id) if t.instance_id == recorded[1].instance_id)
    assert (police_task.bpmn_id, police_task.lane, police_task.due_at) == ("carry_out_action", "police.liaison", FIVE_WD)
    assert recorded[1].due_at == FIVE_WD
    assert "carry_out_action" in [t.bpmn_id for t in inbox(session, users["police_liaison"]).items]
    assert "carry_out_action" not in [t.bpmn_id for t in inbox(session, users["samr_liaison"]).items]
    assert [i.text for i in case_items(session, users["samr_head"], case)][1] == "调取涉案账户的银行流水"

    events = event_types(session, case.id)
    assert events.count("action_item_opened") == 3 and events.count("action_item_done") == 1
    assert session.scalars(select(Message).where(Message.name == "transfer_requested")).all() == []
    assert verify_audit(session, case.id) == []


def test_the_agency_marks_its_item_done_or_cancels_it_with_a_reason(session, users, case, clock):
    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes", {**MINUTES, "action_plan": PLAN})
    police, procuratorate = items(session, case.id)[1:]

    clock.advance(days=1)
    carry_out(session, users["police_liaison"], police, {"outcome": "done", "note": "已调取，附卷。"})
    police_task = [t for t in open_tasks(session, case.id) if t.instance_id == police.instance_id]
    assert police_task == []
    session.refresh(police)
    assert (police.state, police.note, police.closed_by_id) == ("done", "已调取，附卷。", users["police_liaison"].id)
    assert session.get(ProcessInstance, police.instance_id).status == "completed"

    carry_out(session, users["procuratorate_liaison"], procuratorate,
              {"outcome": "cancelled", "note": "损失已由鉴定意见认定，无需另提意见。"})
    session.refresh(procuratorate)
    assert (procuratorate.state, procuratorate.note) == ("cancelled", "损失已由鉴定意见认定，无需另提意见。")
    events = event_types(session, case.id)
    assert events.count("action_item_done") == 2 and events.count("action_item_cancelled") == 1
    assert verify_audit(session, case.id) == []


def test_an_overdue_item_is_overdue_work_for_supervisors(session, users, case, clock):
    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes",
        {**MINUTES, "action_plan": "交办｜公安｜2｜调取银行流水"})
    clock.advance(days=5)
    overdue = overdue_tasks(session, users["office_supervisor"]).items
    assert [(t.bpmn_id, t.agency.code) for t in overdue] == [("carry_out_action", "police")]
    assert scan_deadlines(session) >= 1
    told = session.scalars(select(Notification.kind).where(
        Notification.recipient_id == users["office_supervisor"].id, Notification.task_id == overdue[0].id)).all()
    assert told == ["deadline_passed"]


@pytest.mark.parametrize(("plan", "reason"), [
    ("启动｜不存在的机制", "line 1: '不存在的机制' is not a mechanism you may start here"),
    ("交办｜法院｜5｜查封", "line 1: '法院' does not take part in the case"),
    ("启动｜证据互认\n交办｜公安｜4｜调取", "line 2: the period must be one of 1, 2, 3, 5, 7, 10, 15, 20, 30"),
    ("交办｜公安｜5", "line 1: write '启动｜mechanism[｜reason]'"),
])
def test_a_line_that_cannot_be_done_refuses_the_minutes_and_writes_nothing(session, users, case, plan, reason):
    to_minutes(session, users, case)
    minutes = open_task(session, case.id, "record_minutes")
    claim_task(session, users["samr_handler"], minutes.id)
    before = len(event_types(session, case.id))
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler"], minutes.id, {**MINUTES, "action_plan": plan})
    assert any(r.startswith(reason) for r in refused.value.errors["action_plan"]), refused.value.errors
    assert items(session, case.id) == [] and keys_running(session, case.id) == ["consultation"]
    assert len(event_types(session, case.id)) == before
    assert open_task(session, case.id, "record_minutes").id == minutes.id


def test_a_second_transfer_needs_a_reason(session, users):
    running = create_case(session, users["samr_handler"], "已在移送的案件")  # 立案协助 runs on it
    to_minutes(session, users, running)
    minutes = open_task(session, running.id, "record_minutes")
    claim_task(session, users["samr_handler"], minutes.id)
    for data in ({"request_transfer": True, "action_plan": ""}, {"action_plan": "启动｜立案协助"}):
        with pytest.raises(InvalidInput) as refused:
            complete_task(session, users["samr_handler"], minutes.id, {**MINUTES, **data})
        assert "already runs on this case" in refused.value.errors["action_plan"][0]
    complete_task(session, users["samr_handler"], minutes.id,
                  {**MINUTES, "action_plan": "启动｜立案协助｜另一被侵权企业的事实需另行移送"})
    [item] = items(session, running.id)
    assert (item.mechanism, item.state, item.instance_id) == ("case_transfer", "done", None)
    opened = session.scalar(select(AuditEvent).where(AuditEvent.event_type == "action_item_opened",
                                                     AuditEvent.case_id == running.id))
    assert opened.detail["confirm_reason"] == "另一被侵权企业的事实需另行移送"
    assert deliver_pending(session) == 1
    assert keys_running(session, running.id).count("case_transfer") == 2


def test_ticking_request_transfer_is_the_transfer_item(session, users, case):
    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes", {**MINUTES, "request_transfer": True, "action_plan": ""})
    [item] = items(session, case.id)
    assert (item.kind, item.mechanism, item.state) == ("mechanism", "case_transfer", "done")
    assert deliver_pending(session) == 1
    assert "case_transfer" in keys_running(session, case.id)


def test_a_duplicate_mechanism_item_goes_through_start_mechanism_s_rule(session, users, case):
    start_mechanism(session, users["samr_handler"], case.id, "evidence_recognition")
    to_minutes(session, users, case)
    minutes = open_task(session, case.id, "record_minutes")
    claim_task(session, users["samr_handler"], minutes.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler"], minutes.id, {**MINUTES, "action_plan": "启动｜证据互认"})
    assert refused.value.errors["action_plan"][0].startswith("line 1: required: 'evidence_recognition' already runs")
    complete_task(session, users["samr_handler"], minutes.id, {**MINUTES, "action_plan": "启动｜证据互认｜新取得的证据需互认"})
    assert keys_running(session, case.id).count("evidence_recognition") == 2
    assert "mechanism_duplicate_confirmed" in event_types(session, case.id)


def test_what_the_plan_may_name(session, users, case):
    to_minutes(session, users, case)
    planned, errors = parse_plan(session, users["samr_handler"], case,
                                 "start|evidence_recognition\n task | police | 7 | 核查\n交办｜东公｜1｜核实")
    assert errors == []
    assert [(p.kind, p.mechanism, p.agency.code if p.agency else None, p.days) for p in planned] == [
        ("mechanism", "evidence_recognition", None, 0), ("task", None, "police", 7), ("task", None, "police", 1)]


def test_minutes_of_the_form_before_typed_items_keep_their_free_text(session, users, case, tmp_path):
    """An instance on a version whose minutes had the free-text `action_items` (deployed here as
    it was) records no items; its text stays in the minutes' result and document."""
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    form_path = folder / "forms" / "consultation_minutes.json"
    form = json.loads(form_path.read_text(encoding="utf-8"))
    del form["properties"]["action_plan"]
    form["properties"]["action_items"] = {"title": "落实事项", "type": "string", "maxLength": 5000}
    form_path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    [deployed] = deploy_paths(session, [folder / "consultation.bpmn"])
    assert deployed.created

    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes",
        {**{k: v for k, v in MINUTES.items() if k != "action_plan"},
         "action_items": "市场监管部门三日内启动移送。", "request_transfer": True})
    assert items(session, case.id) == []
    [minutes] = [d for d in case_documents(session, users["samr_handler"], case.id) if d.kind == "consultation_minutes"]
    assert minutes.content["steps"]["record_minutes"]["action_items"] == "市场监管部门三日内启动移送。"
    assert minutes.content["action_items"] == []
    assert deliver_pending(session) == 1  # the transfer the old minutes asked for, as before
    assert "case_transfer" in keys_running(session, case.id)
