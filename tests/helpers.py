"""Small helpers for driving cases through the engine in tests."""
from __future__ import annotations

from sqlalchemy import select

from engine import claim_task, complete_task
from models import AuditEvent, HumanTask, ProcessInstance, case_chain

FACTS_500K = {
    "party_name": "某科技有限公司前员工甲", "suspected_offence": "侵犯商业秘密罪",
    "loss_amount": 500000, "illegal_gain": 0, "bankruptcy_caused": False,
    "other_major_loss": False, "police_measures_needed": False,
    "summary": "甲离职时拷贝了权利人的配方文件（机密内容）",
    # Decree 310 art. 5: two officers sign the transfer report; the first registers it.
    "signing_officers": ["samr_handler", "samr_handler2"],
}
APPROVE_TRANSFER = {"transfer_approved": True, "reasons": "达到追诉标准", "administrative_penalty": False}
APPROVE_HANDOFF = {"handoff_approved": True, "comment": "材料齐全"}
RECEIPT = {"received": True, "receipt_outcome": "accepted", "missing_materials": "", "forwarded_to": "",
           "receipt_note": "已签收"}
REVIEW_FILE = {"recommendation": "file", "opinion": "建议立案"}
FILE = {"filing_decision": "file", "filing_reasons": "符合立案条件"}
NOT_FILE = {"filing_decision": "not_file", "filing_reasons": "没有犯罪事实"}
ACK = {"acknowledged": True, "request_reconsideration": False, "reconsideration_grounds": "",
       "request_supervision": False, "samr_request_reasons": "", "note": "已知悉"}
# A liaison sends a document or material on (outgoing) and the other agency's liaison takes it in.
RELEASE = {"released": True, "comment": "已核对"}
RECEIVED = {"received": True, "note": "已收到"}
HANDOVER = {"handover_items": "涉案U盘｜2｜封存完好\n配方打印件｜15｜完好", "note": "随案移交"}
NO_DISCREPANCY = {"discrepancies_found": False, "discrepancies": ""}


def transferred(session, users, title: str = "某公司配方被盗案", confidentiality: str = "confidential"):
    """A new case that SAMR registers, the head approves and the liaison sends to the police."""
    from engine import create_case

    case = create_case(session, users["samr_handler"], title, confidentiality)
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    return case


def police_decide(session, users, case_id: int, decision: dict) -> None:
    """The police take the case in, review it, decide as `decision` says and notify SAMR."""
    act(session, users["police_liaison"], case_id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], case_id, "review_case",
        {"recommendation": decision["filing_decision"], "opinion": "经审查，提出意见"})
    act(session, users["police_head"], case_id, "decide_filing", decision)
    notify_filing(session, users, case_id)
    if decision["filing_decision"] == "not_file":
        return_files(session, users, case_id)


def notify_filing(session, users, case_id: int) -> None:
    """The police liaison sends the head's filing decision; the SAMR liaison takes it in."""
    act(session, users["police_liaison"], case_id, "approve_filing_notice_handoff", RELEASE)
    act(session, users["samr_liaison"], case_id, "accept_filing_notice", RECEIVED)


RETURNED = {"returned_items": "移送案卷｜1｜完好\n涉案U盘｜2｜封存完好", "return_note": "随通知书退回"}


def return_files(session, users, case_id: int) -> None:
    """Not filed: the police return the case files with the notice; SAMR takes them in and counts them."""
    act(session, users["police_handler"], case_id, "return_materials", RETURNED)
    act(session, users["police_liaison"], case_id, "approve_return_handoff", RELEASE)
    act(session, users["samr_liaison"], case_id, "accept_returned_materials", RECEIVED)
    act(session, users["samr_handler"], case_id, "check_returned_materials",
        {"return_discrepancies_found": False, "return_discrepancies": ""})


def hand_over(session, users, case_id: int, confirmation: dict = NO_DISCREPANCY) -> None:
    """After a filing: SAMR lists and sends the seized items, police count them, SAMR signs off."""
    act(session, users["samr_handler"], case_id, "prepare_handover", HANDOVER)
    act(session, users["samr_liaison"], case_id, "approve_handover_handoff", RELEASE)
    act(session, users["police_liaison"], case_id, "accept_handover", RECEIVED)
    act(session, users["police_handler"], case_id, "confirm_handover", confirmation)
    act(session, users["police_liaison"], case_id, "approve_handover_confirmation_handoff", RELEASE)
    act(session, users["samr_liaison"], case_id, "accept_handover_confirmation", RECEIVED)


def open_tasks(session, case_id: int) -> list[HumanTask]:
    return list(session.scalars(
        select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open")
        .order_by(HumanTask.id).execution_options(populate_existing=True)
    ))


def open_task(session, case_id: int, bpmn_id: str) -> HumanTask:
    tasks = [t for t in open_tasks(session, case_id) if t.bpmn_id == bpmn_id]
    assert len(tasks) == 1, f"expected one open {bpmn_id}, open are {[t.bpmn_id for t in open_tasks(session, case_id)]}"
    return tasks[0]


def act(session, user, case_id: int, bpmn_id: str, data: dict) -> HumanTask:
    """Claim the case's open task `bpmn_id` as `user` and complete it with `data`."""
    task = open_task(session, case_id, bpmn_id)
    claim_task(session, user, task.id)
    return complete_task(session, user, task.id, data)


def instance_of(session, case_id: int) -> ProcessInstance:
    return session.scalars(
        select(ProcessInstance).where(ProcessInstance.case_id == case_id)
        .order_by(ProcessInstance.id).execution_options(populate_existing=True)
    ).first()


def event_types(session, case_id: int) -> list[str]:
    return list(session.scalars(
        select(AuditEvent.event_type).where(AuditEvent.chain == case_chain(case_id)).order_by(AuditEvent.seq)
    ))
