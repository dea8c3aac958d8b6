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
}
APPROVE_TRANSFER = {"transfer_approved": True, "reasons": "达到追诉标准"}
APPROVE_HANDOFF = {"handoff_approved": True, "comment": "材料齐全"}
RECEIPT = {"received": True, "receipt_note": "已签收"}
REVIEW_FILE = {"recommendation": "file", "opinion": "建议立案"}
FILE = {"filing_decision": "file", "filing_reasons": "符合立案条件"}
NOT_FILE = {"filing_decision": "not_file", "filing_reasons": "没有犯罪事实"}
ACK = {"acknowledged": True, "note": "已知悉"}


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
