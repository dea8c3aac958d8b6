"""No fine instead of a transfer (以罚代刑, Decree 310 art. 11): a rule on SAMR's registration of a
penalty decision (`record_penalty_decision` in workflows/penalty_disclosure.bpmn).

While the case's 立案协助 says the facts meet the criminal filing standard (the decision table's
`threshold` is "criminal", or "reasonable_suspicion" under Decree 310 art. 3(2), where the law
says "应当移送" as well), SAMR may not close the case with a penalty alone: the registration is
refused until a transfer was made and the police answered it (a filing decision or a forwarding
received by SAMR's liaison). Penalties imposed once a transfer reached the police stand, and
their fine is credited against a criminal fine (Administrative Penalty Law art. 35): the
registration records the amount to credit as `fine_to_credit`.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.mechanisms.completion import Completion, Hook
from engine.runtime.instances import load
from models import HumanTask, HumanTaskState, ProcessInstance, ProcessModel

TRANSFER = "case_transfer"
# The table's answers under which the bureau must transfer (Decree 310 art. 3).
MUST_TRANSFER = ("criminal", "reasonable_suspicion")
# SAMR's liaison signed for the police's answer: a filing decision, or the case forwarded elsewhere.
ANSWERED = ("accept_filing_notice", "accept_forwarding_notice")
# The police signed for the transfer: a criminal case may follow, so a fine is to be credited.
REACHED_POLICE = ("accept_receipt",)


def _transfers(session: Session, case_id: int) -> list[ProcessInstance]:
    return list(session.scalars(
        select(ProcessInstance).join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
        .where(ProcessInstance.case_id == case_id, ProcessModel.key == TRANSFER).order_by(ProcessInstance.id)))


def _threshold(session: Session, instance: ProcessInstance) -> str | None:
    """The decision table's latest answer in a transfer instance, None before it has answered."""
    workflow = load(session, instance)
    answer, latest = None, -1.0
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.get_tasks():
            if "threshold" in task.data and task.last_state_change > latest:
                answer, latest = task.data["threshold"], task.last_state_change
    return answer


def _done(session: Session, instances: Iterable[ProcessInstance], steps: tuple[str, ...]) -> bool:
    ids = [i.id for i in instances]
    return bool(ids) and session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id.in_(ids), HumanTask.bpmn_id.in_(steps),
        HumanTask.state == HumanTaskState.COMPLETED).limit(1)) is not None


def _record_penalty_decision(completion: Completion) -> None:
    session = completion.session
    transfers = _transfers(session, completion.task.case_id)
    must_transfer = any(_threshold(session, i) in MUST_TRANSFER for i in transfers)
    if must_transfer and not _done(session, transfers, ANSWERED):
        raise InvalidInput("form data is not valid", {"": [
            ("the criminal filing standard is met (立案协助's decision table): a penalty may not replace the "
             "transfer (以罚代刑, Decree 310 art. 11); register it once the case was transferred and the "
             "police have answered")]})
    completion.data.pop("fine_to_credit", None)
    if _done(session, transfers, REACHED_POLICE) and completion.data.get("fine_amount"):
        completion.data["fine_to_credit"] = completion.data["fine_amount"]


HOOKS: dict[str, Hook] = {"record_penalty_decision": Hook(check=_record_penalty_decision)}
