"""Domain rules of 立案协助 (workflows/case_transfer.bpmn) that the diagram cannot express.

The transfer report and the threshold (Decree 310 arts. 3, 5):
- `transfer_report` (register_facts): two or more SAMR officers sign the report (Decree 310
  art. 5): the form's `signing_officers` are handlers of the task's lane (x-choices
  `transfer_officers`), distinct, and the officer who registers it is one of them.
- The decision table criminal_threshold.dmn answers (threshold, especially_serious, and the row
  that fired as `threshold_rule`); the script `record_threshold_decision` keeps that answer with
  its inputs as `threshold_decision`. `threshold_decision()` adds what the table as deployed with
  the case's process model says of it: its version, effective date, legal source and the row's
  description, so a decision always reads with the version that made it.
- `transfer_decision` (decide_transfer): the head sees the table's answer; approving a transfer
  the table does not support (below the standard, or amounts unknown, without reasonable
  suspicion under Decree 310 art. 3(2)) needs a recorded reason; the other route (administrative
  investigation and penalty) is the form's `administrative_penalty`, which only a refusal takes.
- The 移送书 states the ground (the standard met, or reasonable suspicion), the signing officers
  and, as its attachments, the report and the evidence items SAMR holds in the case when it is
  issued (a content builder of engine/casework/documents.py).

The police's period for deciding whether to file a transferred case (`police_filing_decision`,
3 days from acceptance, Decree 310 art. 8) sits on the head's decision, `decide_filing`, which
opens at acceptance beside the handler's review:

- `extend_review`: the police head extends that period (10 days, or 30 for a complex case,
  counted from acceptance); the decision's due time and its escalation timer move with it, in the
  completion's transaction (engine/runtime/deadlines.py).
- `decide_filing`: the head decides on the handler's review, so the decision is refused while the
  review is open; the task page shows what the handler recommended.

Context lines and field errors are codes and English sentences: the web words them
(web/labels.py CONTEXT_CODES, web/forms.py).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any

from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.casework import documents
from engine.errors import InvalidInput
from engine.mechanisms.completion import ChoiceSource, Completion, Hook, Term
from engine.runtime.deadlines import extend_open_task, extended_due
from engine.runtime.definitions import definition
from engine.runtime.instances import load
from engine.runtime.reached import Reached, Reaction
from models import EvidenceItem, HumanTask, HumanTaskState, Membership, ProcessInstance, User

REPORT_TASK = "register_facts"
REVIEW_TASK = "review_case"
NO_EXTENSION = "not_needed"  # review_extension's answer when the head does not extend
DECISION_TASK = "decide_filing"
THRESHOLD_DECISION = "threshold_decision"  # the workflow variable record_threshold_decision writes
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
LIANDONG_DMN_NS = "http://liandong.local/schema/dmn"
# The evidence kinds as the 移送书 (Chinese by statute) lists them; pages word kinds themselves.
KIND_TITLES = {
    "physical": "物证", "documentary": "书证", "audio_visual": "视听资料", "electronic_data": "电子数据",
    "expert_opinion": "鉴定意见", "inspection_record": "勘验、检查笔录", "interview_record": "询问笔录",
}


class TransferLine(StrEnum):
    """The titles of the transfer's task context lines, worded by the task page (web/labels.py)."""

    THRESHOLD = "threshold"
    THRESHOLD_RULE = "threshold_rule"
    LOSS_AMOUNT = "loss_amount"
    ILLEGAL_GAIN = "illegal_gain"
    OTHER_FACTS = "other_facts"
    THRESHOLD_TABLE = "threshold_table"
    LEGAL_SOURCE = "legal_source"
    PLEASE_NOTE = "please_note"
    SIGNING_OFFICERS = "signing_officers"
    REVIEW_RECOMMENDATION = "review_recommendation"
    REVIEW_OPINION = "review_opinion"


class Threshold(StrEnum):
    """The decision table's answer (output `threshold`), and "especially serious" on top of it."""

    CRIMINAL = "criminal"
    ESPECIALLY_SERIOUS = "especially_serious"
    REASONABLE_SUSPICION = "reasonable_suspicion"
    BELOW_THRESHOLD = "below_threshold"
    UNKNOWN = "unknown"


class ThresholdFact(StrEnum):
    """The yes/no inputs of the decision table, as a context line lists those that hold."""

    BANKRUPTCY_CAUSED = "bankruptcy_caused"
    OTHER_MAJOR_LOSS = "other_major_loss"
    POLICE_MEASURES_NEEDED = "police_measures_needed"


class Recommendation(StrEnum):
    """The police handler's recommendation on a transferred case (review_case's form)."""

    FILE = "file"
    NOT_FILE = "not_file"


class ReviewState(StrEnum):
    PENDING = "pending"


# --- the decision table as deployed ---------------------------------------------------------

@lru_cache(maxsize=16)
def _table(source: str) -> dict[str, Any]:
    """What criminal_threshold.dmn says of itself and of each row: version, effective date, legal
    source; per row its description and the amount each compared input must reach."""
    root = etree.fromstring(source.encode("utf-8"))
    decision = root.find(f"{{{DMN_NS}}}decision")
    assert decision is not None
    inputs = [text.strip() for text in decision.xpath(
        ".//dmn:input/dmn:inputExpression/dmn:text/text()", namespaces={"dmn": DMN_NS})]
    rules = {}
    for rule in decision.iter(f"{{{DMN_NS}}}rule"):
        limits = {}
        for name, entry in zip(inputs, rule.iterfind(f"{{{DMN_NS}}}inputEntry"), strict=False):
            found = re.search(r">=\s*([0-9.]+)", entry.findtext(f"{{{DMN_NS}}}text") or "")
            if found:
                limits[name] = float(found.group(1))
        rules[rule.get("id")] = {"description": rule.findtext(f"{{{DMN_NS}}}description") or "",
                                 "limits": limits}
    return {"decision": decision.get("id"), "name": decision.get("name"),
            "version": decision.get(f"{{{LIANDONG_DMN_NS}}}version"),
            "effective": decision.get(f"{{{LIANDONG_DMN_NS}}}effectiveDate"),
            "source": decision.findtext(f"{{{DMN_NS}}}description") or "", "rules": rules}


def _deployed_table(session: Session, model_id: int, decision_id: str) -> dict[str, Any] | None:
    for source in definition(session, model_id).dmn_sources.values():
        if f'id="{decision_id}"' in source:
            return _table(source)
    return None


def _latest_data(session: Session, instance: ProcessInstance) -> Mapping[str, Any]:
    """The data of the instance's most recent task that holds the threshold decision."""
    workflow = load(session, instance)
    found: Mapping[str, Any] = {}
    latest = -1.0
    for process in (workflow, *workflow.subprocesses.values()):
        # Every task of the process, as its tree would list them, without walking the tree.
        for task in process.tasks.values():
            if THRESHOLD_DECISION in task.data and task.last_state_change > latest:
                found, latest = task.data, task.last_state_change
    return found


def threshold_decision(session: Session, instance: ProcessInstance,
                       data: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The decision table's answer for a transfer, as recorded when it was made, with what the
    table as deployed with the instance says of it (version, effective date, source, the row's
    description and limits); None before the table has answered. `data`: the workflow data to read
    it from, when the caller has it."""
    recorded = (data if data is not None and THRESHOLD_DECISION in data
                else _latest_data(session, instance)).get(THRESHOLD_DECISION)
    if not recorded:
        return None
    table = _deployed_table(session, instance.process_model_id, recorded.get("decision", "criminal_threshold")) or {}
    rule = table.get("rules", {}).get(recorded.get("rule"), {})
    return {**recorded, "version": table.get("version"), "effective": table.get("effective"),
            "source": table.get("source", ""), "table_name": table.get("name"),
            "rule_description": rule.get("description", ""), "limits": rule.get("limits", {})}


def needs_reason(decision: Mapping[str, Any] | None) -> bool:
    """Whether approving a transfer needs a recorded reason: the table did not find the standard
    met and there is no reasonable suspicion (Decree 310 art. 3(2))."""
    return decision is not None and decision.get("threshold") in (Threshold.BELOW_THRESHOLD, Threshold.UNKNOWN)


def outcome(decision: Mapping[str, Any]) -> Threshold:
    if decision.get("threshold") == Threshold.CRIMINAL and decision.get("especially_serious"):
        return Threshold.ESPECIALLY_SERIOUS
    return Threshold(decision.get("threshold", Threshold.UNKNOWN))


def _figure(value: float) -> str:
    """An amount of yuan as the records write it, grouped by thousands: 500,000 or 120,000.50."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _amount(value: Any) -> Term:
    if value is None:
        return Term("Threshold", "amount_unknown")
    return Term("Threshold", "yuan", {"amount": _figure(value)})


def _workflow_text(text: str | None) -> Term | None:
    """Text of a file in workflows/ (the table's descriptions): the web shows it in the page's
    language from workflows/translations/en.json."""
    return Term("Workflow", text) if text else None


def threshold_lines(decision: Mapping[str, Any] | None) -> list[tuple]:
    """The table's answer as task context lines: the result (for an amount, the amount against the
    standard), the row that fired, the inputs, the table's version and source."""
    if decision is None:
        return []
    inputs = decision.get("inputs", {})
    result: Threshold | Term = outcome(decision)
    for name, limit in decision.get("limits", {}).items():
        if inputs.get(name) is not None:
            result = Term("Threshold", "amount_met", {
                "input": TransferLine(name), "amount": _figure(inputs[name]), "limit": _figure(limit),
                "outcome": result})
            break
    lines: list[tuple] = [
        (TransferLine.THRESHOLD, result),
        (TransferLine.THRESHOLD_RULE, _workflow_text(decision.get("rule_description")) or decision.get("rule")),
        (TransferLine.LOSS_AMOUNT, _amount(inputs.get("loss_amount"))),
        (TransferLine.ILLEGAL_GAIN, _amount(inputs.get("illegal_gain"))),
        (TransferLine.OTHER_FACTS, [fact for fact in ThresholdFact if inputs.get(fact.value)]),
        (TransferLine.THRESHOLD_TABLE, Term("Threshold", "table", {
            "version": decision.get("version") or "", "effective": decision.get("effective") or ""})),
        (TransferLine.LEGAL_SOURCE, _workflow_text(decision.get("source"))),
    ]
    if needs_reason(decision):
        lines.append((TransferLine.PLEASE_NOTE, Term("Threshold", "reason_needed")))
    return lines


# --- the transfer report --------------------------------------------------------------------

def _officers(session: Session, actor: User, task: HumanTask) -> list[tuple[Any, str]]:
    """The officers who may sign the report: active users of the task's lane (SAMR handlers)."""
    rows = session.execute(
        select(User.username, User.display_name).join(Membership, Membership.user_id == User.id)
        .where(Membership.agency_id == task.agency_id, Membership.role == task.role, User.active.is_(True))
        .order_by(User.display_name, User.id)).all()
    return [(username, name) for username, name in rows]


def _transfer_report(completion: Completion) -> None:
    officers = completion.data["signing_officers"]
    if completion.actor.username not in officers:
        raise InvalidInput("form data is not valid", {"signing_officers": [
            "the officer who registers the report must be one of the officers signing it"]})


# Built once, on the tables: the 移送书 and the head's decision page read them.
_TASKS, _USERS, _ITEMS = HumanTask.__table__, User.__table__, EvidenceItem.__table__
_REPORT = (select(_TASKS.c.result)
           .where(_TASKS.c.instance_id == bindparam("instance_id"), _TASKS.c.bpmn_id == REPORT_TASK,
                  _TASKS.c.state == HumanTaskState.COMPLETED)
           .order_by(_TASKS.c.id.desc()).limit(1))
_NAMES = select(_USERS.c.username, _USERS.c.display_name).where(
    _USERS.c.username.in_(bindparam("usernames", expanding=True)))
_ATTACHMENTS = (select(_ITEMS.c.id, _ITEMS.c.kind, _ITEMS.c.description, _ITEMS.c.original_name,
                       _ITEMS.c.sha256, _ITEMS.c.declared_sha256)
                .where(_ITEMS.c.case_id == bindparam("case_id"), _ITEMS.c.owner_agency_id == bindparam("agency_id"))
                .order_by(_ITEMS.c.id))


def signing_officers(session: Session, instance_id: int) -> list[str]:
    """The display names of the officers who signed the latest transfer report of an instance."""
    result = session.execute(_REPORT, {"instance_id": instance_id}).scalar()
    usernames = (result or {}).get("signing_officers", [])
    if not usernames:
        return []
    names: dict[str, str] = dict(session.execute(_NAMES, {"usernames": usernames}).all())
    return [names.get(u, u) for u in usernames]


def _report_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    if task.state != HumanTaskState.COMPLETED:
        return []
    return threshold_lines(threshold_decision(session, task.instance))


# --- the head's decision --------------------------------------------------------------------

def _transfer_decision(completion: Completion) -> None:
    data = completion.data
    if data["transfer_approved"]:
        data["administrative_penalty"] = False
        decision = threshold_decision(completion.session, completion.task.instance, completion.workflow_data)
        if needs_reason(decision) and not (data.get("reasons") or "").strip():
            raise InvalidInput("form data is not valid", {"reasons": [
                ("required: the filing standard is not met and there is no reasonable suspicion "
                 "(Decree 310 art. 3(2)); record why the case is transferred")]})


def _decision_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    lines = threshold_lines(threshold_decision(session, task.instance, data))
    officers = signing_officers(session, task.instance_id)
    return [*lines, (TransferLine.SIGNING_OFFICERS, officers)] if lines or officers else []


# --- the police's filing decision -----------------------------------------------------------

def _step(session: Session, instance_id: int, bpmn_id: str, state: HumanTaskState) -> HumanTask | None:
    """The instance's latest task row of step `bpmn_id` in `state`."""
    return session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.state == state)
        .order_by(HumanTask.id.desc())).first()


def _extend_review(completion: Completion) -> None:
    rule = completion.data["review_period"]
    if rule == NO_EXTENSION:  # the head closes the option; the period stays as it is
        return
    decision = _step(completion.session, completion.task.instance_id, DECISION_TASK, HumanTaskState.OPEN)
    if decision is None:
        raise InvalidInput("form data is not valid",
                           {"review_period": ["the filing decision has been made: there is no period to extend"]})
    try:
        due = extended_due(completion.session, completion.calendar, decision, rule)
    except ValueError as exc:
        raise InvalidInput("form data is not valid", {"review_period": [str(exc)]}) from exc
    if decision.due_at is not None and due.at <= decision.due_at:
        raise InvalidInput("form data is not valid", {"review_period": [
            f"the review period is already {decision.deadline_rule}: it can only be extended, not shortened"]})
    extend_open_task(completion.session, completion.actor, decision, rule,
                     completion.data["extension_reasons"], completion.calendar)


# Whether the instance's review is still open (built once: every filing decision asks).
_REVIEW_OPEN = select(HumanTask.id).where(
    HumanTask.instance_id == bindparam("instance_id"), HumanTask.bpmn_id == REVIEW_TASK,
    HumanTask.state == HumanTaskState.OPEN).limit(1)


def _decide_filing(completion: Completion) -> None:
    if completion.session.scalar(_REVIEW_OPEN, {"instance_id": completion.task.instance_id}) is not None:
        raise InvalidInput("form data is not valid", {"filing_decision": [
            "the handler has not submitted the review yet: decide once the review is in"]})


def _review_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    review = _step(session, task.instance_id, REVIEW_TASK, HumanTaskState.COMPLETED)
    if review is None:
        return [(TransferLine.REVIEW_OPINION, ReviewState.PENDING)]
    result = review.result or {}
    recommendation = str(result.get("recommendation", ""))
    return [(TransferLine.REVIEW_RECOMMENDATION,
             Recommendation(recommendation) if recommendation in set(Recommendation) else recommendation),
            (TransferLine.REVIEW_OPINION, str(result.get("opinion", "")))]


# --- the 移送书 -------------------------------------------------------------------------------

def _transfer_letter(session: Session, task: HumanTask, step_data: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the 移送书 says beyond the steps' results: the ground (the table's answer with its row
    and version), the officers who signed the report, and the attachments actually sent: the
    report and SAMR's evidence items of the case as they stand when the letter is issued."""
    # The decision from the issuing step's data when it has it (the stored instance is not loaded again).
    decision = threshold_decision(session, task.instance, step_data)
    items = session.execute(_ATTACHMENTS, {"case_id": task.case_id, "agency_id": task.agency_id}).all()
    return {
        "threshold": {key: decision.get(key) for key in (
            "decision", "rule", "rule_description", "threshold", "especially_serious", "inputs",
            "version", "effective", "source")} if decision else None,
        "signing_officers": signing_officers(session, task.instance_id),
        "attachments": [{
            "id": item.id, "kind": KIND_TITLES.get(item.kind, item.kind), "description": item.description,
            "file": item.original_name or "", "sha256": item.sha256 or item.declared_sha256 or "",
        } for item in items],
    }


# --- the record ---------------------------------------------------------------------------

def _threshold_assessed(reached: Reached) -> None:
    """The table's answer on the case's timeline (`threshold_assessed`): the row that fired as the
    line's title, the answer, the inputs and the version of the table that gave it."""
    decision = threshold_decision(reached.session, reached.instance, reached.data)
    if decision is None:
        return
    audit.record(reached.session, "threshold_assessed", actor=reached.actor, case_id=reached.instance.case_id,
                 instance_id=reached.instance.id, detail={
                     "title": decision["rule_description"], "rule": decision.get("rule"),
                     "threshold": decision.get("threshold"), "especially_serious": decision.get("especially_serious"),
                     "inputs": decision.get("inputs"), "decision": decision.get("decision"),
                     "version": decision.get("version"), "effective": decision.get("effective")})


HOOKS: Mapping[str, Hook] = {
    "transfer_report": Hook(check=_transfer_report, context=_report_context),
    "transfer_decision": Hook(check=_transfer_decision, context=_decision_context),
    "extend_review": Hook(check=_extend_review),
    "decide_filing": Hook(check=_decide_filing, context=_review_context),
}
CHOICES: Mapping[str, ChoiceSource] = {"transfer_officers": _officers}
REACTIONS: Mapping[str, Mapping[str, Reaction]] = {
    "case_transfer": {"record_threshold_decision": _threshold_assessed},
}

documents.CONTENT_BUILDERS.update(transfer_letter=_transfer_letter)
