"""The convening agency withdraws a consultation's action item it gave another agency, with its
reason: the real diagram's interrupting boundary message cancels the agency's task, the item is
closed as withdrawn with who, when and why, audited, and the responsible agency's liaisons are
told. Refused for anyone but the convener, without a reason, for a closed item or a mechanism item,
and for an instance of the diagram version before the boundary event."""
from __future__ import annotations

import shutil

import pytest
from lxml import etree
from sqlalchemy import select

from engine import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    action_item_withdrawable,
    claim_task,
    complete_task,
    create_case,
    deploy_paths,
    inbox,
    policy,
    verify_audit,
    withdraw_action_item,
)
from engine.oversight.notification_mail import MailSettings, compose
from models import AuditEvent, HumanTask, Notification, ProcessInstance
from tests.engine.test_consultation import MINUTES
from tests.engine.test_consultation_actions import WORKFLOWS, carry_out, items, to_minutes
from tests.helpers import act, event_types, open_tasks

PLAN = "启动｜证据互认\n交办｜公安｜5｜调取涉案账户的银行流水\n交办｜检察院｜3｜就损失认定提出书面意见"
REASON = "会商决定改由市场监管部门自行调取"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案", mechanisms=[])


@pytest.fixture
def recorded(session, users, case):
    """The minutes recorded by samr_handler: a mechanism item, a police and a procuratorate task."""
    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes", {**MINUTES, "action_plan": PLAN})
    return items(session, case.id)


def task_of(session, item) -> HumanTask:
    return session.scalars(select(HumanTask).where(HumanTask.instance_id == item.instance_id)
                           .execution_options(populate_existing=True)).one()


def test_the_recorder_withdraws_an_open_task_item(session, users, case, recorded, clock):
    police = recorded[1]
    task = task_of(session, police)
    clock.advance(days=1)
    withdrawn = withdraw_action_item(session, users["samr_handler"], case.id, police.id, f"  {REASON}\n")

    assert (withdrawn.state, withdrawn.note, withdrawn.closed_by_id) == ("withdrawn", REASON, users["samr_handler"].id)
    assert withdrawn.closed_at is not None and withdrawn.closed_at > withdrawn.created_at
    task = task_of(session, police)
    assert task.state == "cancelled"
    assert "carry_out_action" not in [t.bpmn_id for t in inbox(session, users["police_liaison"]).items]
    instance = session.get(ProcessInstance, police.instance_id)
    session.refresh(instance)
    assert instance.status == "completed"
    # The other task item is untouched.
    assert [i.state for i in items(session, case.id)] == ["done", "withdrawn", "open"]

    events = event_types(session, case.id)
    assert events[-3:] == ["task_cancelled", "instance_completed", "action_item_withdrawn"]
    detail = session.scalar(select(AuditEvent.detail).where(
        AuditEvent.event_type == "action_item_withdrawn", AuditEvent.case_id == case.id))
    assert detail == {"item": police.id, "kind": "task", "note": REASON}
    assert verify_audit(session, case.id) == []

    told = session.execute(select(Notification.recipient_id, Notification.kind, Notification.params).where(
        Notification.kind == "action_item_withdrawn").order_by(Notification.recipient_id)).all()
    assert {r.recipient_id for r in told} == {u.id for name, u in users.items() if name.startswith("police_liaison")}
    assert told[0].params["title"] == "调取涉案账户的银行流水"
    assert told[0].params["actor"] == users["samr_handler"].display_name
    # Its mail, for the liaisons who take notices by mail.
    notice = session.scalars(select(Notification).where(Notification.kind == "action_item_withdrawn")).first()
    mail = compose(notice, "liaison@example.org", MailSettings())
    assert mail["Subject"] == "【联动】会商落实事项已撤回：调取涉案账户的银行流水"
    assert f"撤回了案件 {case.number} 的会商交办本单位的落实事项“调取涉案账户的银行流水”" in mail.get_content()

    # The agency can no longer work on it, and the item cannot be withdrawn twice.
    with pytest.raises(Conflict):
        claim_task(session, users["police_liaison"], task.id)
    with pytest.raises(Conflict, match="already withdrawn"):
        withdraw_action_item(session, users["samr_handler"], case.id, police.id, REASON)


def test_a_liaison_of_the_convening_agency_withdraws_too(session, users, case, recorded):
    procuratorate = recorded[2]
    assert action_item_withdrawable(session, users["samr_liaison"], procuratorate)
    withdraw_action_item(session, users["samr_liaison"], case.id, procuratorate.id, REASON)
    assert items(session, case.id)[2].closed_by_id == users["samr_liaison"].id


@pytest.mark.parametrize("username", ["police_liaison", "police_handler", "samr_head", "procuratorate_liaison"])
def test_others_may_not_withdraw(session, users, case, recorded, username):
    police = recorded[1]
    assert not policy.allowed(session, users[username], "withdraw_action_item", police)
    assert not action_item_withdrawable(session, users[username], police)
    before = len(event_types(session, case.id))
    with pytest.raises(Forbidden):
        withdraw_action_item(session, users[username], case.id, police.id, REASON)
    assert len(event_types(session, case.id)) == before
    assert task_of(session, police).state == "open"


def test_an_overseer_and_another_case_see_no_item(session, users, case, recorded):
    with pytest.raises(NotFound):
        withdraw_action_item(session, users["office_supervisor"], case.id, recorded[1].id, REASON)
    other = create_case(session, users["samr_handler"], "另一案件", mechanisms=[])
    with pytest.raises(NotFound):
        withdraw_action_item(session, users["samr_handler"], other.id, recorded[1].id, REASON)


@pytest.mark.parametrize("reason", ["", "   \n ", "理" * 1001])
def test_a_reason_is_required(session, users, case, recorded, reason):
    police = recorded[1]
    with pytest.raises(InvalidInput) as refused:
        withdraw_action_item(session, users["samr_handler"], case.id, police.id, reason)
    assert list(refused.value.errors) == ["reason"]
    assert items(session, case.id)[1].state == "open" and task_of(session, police).state == "open"


def test_a_closed_item_or_a_mechanism_item_is_not_withdrawn(session, users, case, recorded):
    mechanism, police = recorded[0], recorded[1]
    with pytest.raises(Conflict, match="started a mechanism"):
        withdraw_action_item(session, users["samr_handler"], case.id, mechanism.id, REASON)
    assert not action_item_withdrawable(session, users["samr_handler"], mechanism)

    carry_out(session, users["police_liaison"], police, {"outcome": "done", "note": "已调取。"})
    with pytest.raises(Conflict, match="already done"):
        withdraw_action_item(session, users["samr_handler"], case.id, police.id, REASON)
    assert items(session, case.id)[1].state == "done"
    assert "action_item_withdrawn" not in event_types(session, case.id)


def _without_withdrawal(source: str) -> str:
    """The diagram as it was before the withdrawal: no boundary event, its end, flow or drawing."""
    root = etree.fromstring(source.encode("utf-8"))
    gone = {"action_withdrawn", "action_withdrawn_end", "f_withdrawn_end", "msg_action_withdrawn"}
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        if element.get("id") in gone or element.get("bpmnElement") in gone or (
                element.tag == f"{BPMN}flowNodeRef" and element.text in gone):
            element.getparent().remove(element)
    return etree.tostring(root, encoding="unicode")


def test_an_instance_of_the_older_diagram_is_refused(session, users, case, tmp_path):
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    path = folder / "consultation_action.bpmn"
    path.write_text(_without_withdrawal(path.read_text(encoding="utf-8")), encoding="utf-8")
    [deployed] = deploy_paths(session, [path])
    assert deployed.created

    to_minutes(session, users, case)
    act(session, users["samr_handler"], case.id, "record_minutes",
        {**MINUTES, "action_plan": "交办｜公安｜5｜调取银行流水"})
    [item] = items(session, case.id)
    with pytest.raises(Conflict, match="older version of its diagram"):
        withdraw_action_item(session, users["samr_handler"], case.id, item.id, REASON)
    assert items(session, case.id)[0].state == "open"
    assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["carry_out_action"]
    # The responsible agency still closes it as before.
    carry_out(session, users["police_liaison"], item, {"outcome": "cancelled", "note": REASON})
    assert items(session, case.id)[0].state == "cancelled"


def test_the_agency_completing_first_wins(session, users, case, recorded):
    """The agency's completion and the withdrawal both lock the instance: after a completion the
    withdrawal finds the item closed (Conflict), and the task stays completed."""
    police = recorded[1]
    task = task_of(session, police)
    claim_task(session, users["police_liaison"], task.id)
    complete_task(session, users["police_liaison"], task.id, {"outcome": "done", "note": "已调取。"})
    with pytest.raises(Conflict):
        withdraw_action_item(session, users["samr_liaison"], case.id, police.id, REASON)
    assert task_of(session, police).state == "completed"
