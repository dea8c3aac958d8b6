"""案情会商 action items (落实事项, DOMAIN §5): typed in the minutes and tracked to done.

The minutes' `action_plan` holds one item a line, its parts split by "｜" (or "|"):
- `启动｜证据互认` starts a mechanism on the case, as the convener (the policy's `startable_by`
  rules, and a closed case starts none). While the mechanism already runs on the case a third part
  gives the reason to start another (`启动｜证据互认｜理由`), recorded as
  `mechanism_duplicate_confirmed`, as on the case page. 立案协助, which no user starts directly,
  goes the way the minutes always asked for it: the diagram's `request_transfer` gateway sends
  `transfer_requested`, and the worker starts it. Ticking `request_transfer` is the same item.
- `交办｜公安｜5｜调取银行流水` gives an agency taking part in the case a task due in that many
  working days: a `consultation_action` instance whose one task, in the agency's liaison lane,
  carries the deadline, so the inbox, the deadline notices and the supervisors' overdue list
  treat it like any other task. Completing that task marks the item done, or cancelled with the
  reason (`consultation_action` hook).

Each item is a `ConsultationActionItem` row: open, then done or cancelled, with who and when;
every change of it is audited in the transaction that makes it. The convening agency may withdraw
an open task item with its reason (`withdrawn`, engine/mechanisms/action_withdrawal.py). Minutes of an older version of
the form (free-text `action_items`) have no `action_plan` and no items: their text stays in the
minutes' result and document.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework import cases, documents
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.mechanisms.completion import Completion, Hook
from engine.runtime.definitions import task_form
from engine.runtime.instances import start_instance
from engine.time.clock import now
from models import Agency, Case, ConsultationActionItem, HumanTask, HumanTaskState, ProcessModel, User

FIELD = "action_plan"
ACTION_MECHANISM = "consultation_action"
START_WORDS = {"启动", "start"}
TASK_WORDS = {"交办", "task"}
# The periods the minutes may set: rule `consultation_action` of workflows/deadlines.toml and its
# extensions (the task's `deadline_from` may choose only those).
PERIODS = (1, 2, 3, 5, 7, 10, 15, 20, 30)
MAX_TEXT = 1000
# What people call an agency in a line, beside its code, name and short name.
AGENCY_WORDS = {"市场监管": "samr", "市场监管局": "samr", "公安": "police", "公安机关": "police",
                "检察": "procuratorate", "检察院": "procuratorate", "法院": "court"}


class ActionLine(StrEnum):
    """Titles of the action items' context lines (worded by web/labels.py)."""

    STARTABLE = "startable"
    AGENCIES = "agencies"
    ITEM = "item"
    CONSULTATION = "consultation"
    DUE = "due"


@dataclass(frozen=True)
class Planned:
    """One line of the plan, resolved: a mechanism to start or a task for an agency."""

    position: int
    kind: str
    text: str
    mechanism: str | None = None
    reason: str = ""
    agency: Agency | None = None
    days: int = 0


def _parts(line: str) -> list[str]:
    return [part.strip() for part in line.replace("|", "｜").split("｜")]


def startable(session: Session, actor: User, case: Case) -> dict[str, str]:
    """Mechanism key -> name of what the convener may start from the minutes: 立案协助 (as the
    minutes always could) and what the actor may start on the case page."""
    offered = {cases.TRANSFER: "立案协助"}
    for model in cases.startable_mechanisms(session, actor, case):
        if model.key != ACTION_MECHANISM:
            offered[model.key] = model.name
    return offered


def assignable(session: Session, case: Case) -> list[Agency]:
    """The agencies that may be given a task: those taking part in the case (the invited
    agencies joined it with their answer tasks)."""
    ids = [p.agency_id for p in case.participants]
    return list(session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.id)))


def mechanism_names(session: Session) -> dict[str, str]:
    """Each mechanism's name by key (the newest version's)."""
    # Read here rather than through engine/runtime/process_models.py, which imports the hooks.
    newest = select(func.max(ProcessModel.id)).group_by(ProcessModel.key)
    rows = session.execute(select(ProcessModel.key, ProcessModel.name).where(ProcessModel.id.in_(newest)))
    return {key: name for key, name in rows}  # noqa: C416 (rows are Row pairs)


def _find_agency(agencies: list[Agency], word: str) -> Agency | None:
    code = AGENCY_WORDS.get(word, word)
    return next((a for a in agencies if word in (a.name, a.short_name) or a.code == code.lower()), None)


def _find_mechanism(offered: dict[str, str], word: str) -> str | None:
    return next((key for key, name in offered.items() if word in (key, name)), None)


def parse_plan(session: Session, actor: User, case: Case, text: str) -> tuple[list[Planned], list[str]]:
    """The plan's lines resolved against what this convener may start and whom the case has,
    with one reason per line that cannot be (naming the line)."""
    offered, agencies = startable(session, actor, case), assignable(session, case)
    planned: list[Planned] = []
    errors: list[str] = []
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for position, line in enumerate(lines, start=1):
        parts = _parts(line)
        word = parts[0].lower()
        if word in START_WORDS and len(parts) in (2, 3):
            key = _find_mechanism(offered, parts[1])
            if key is None:
                errors.append(f"line {position}: '{parts[1]}' is not a mechanism you may start here; "
                              f"choose from {'、'.join(offered.values())}")
                continue
            reason = parts[2] if len(parts) == 3 else ""
            planned.append(Planned(position, "mechanism", line, mechanism=key, reason=reason))
        elif word in TASK_WORDS and len(parts) == 4:
            agency = _find_agency(agencies, parts[1])
            days = int(parts[2]) if parts[2].isdigit() else 0
            if agency is None:
                errors.append(f"line {position}: '{parts[1]}' does not take part in the case; "
                              f"choose from {'、'.join(a.name for a in agencies)}")
            elif days not in PERIODS:
                errors.append(f"line {position}: the period must be one of {', '.join(map(str, PERIODS))} "
                              f"working days, not '{parts[2]}'")
            elif not parts[3] or len(parts[3]) > MAX_TEXT:
                errors.append(f"line {position}: say what is to be done, in at most {MAX_TEXT} characters")
            else:
                planned.append(Planned(position, "task", parts[3], agency=agency, days=days))
        else:
            errors.append(f"line {position}: write '启动｜mechanism[｜reason]' "
                          "or '交办｜agency｜working days｜what to do'")
    return planned, errors


def minutes_check(completion: Completion) -> None:
    """Resolve the minutes' action items, refuse the minutes naming each line that cannot be
    done, and open every item: start its mechanism or give its agency the task."""
    session, actor, task = completion.session, completion.actor, completion.task
    if FIELD not in task_form(session, task).get("properties", {}):
        return  # minutes of a form version before typed items
    case = session.get_one(Case, task.case_id)
    planned, errors = parse_plan(session, actor, case, completion.data.get(FIELD) or "")
    if completion.data.get("request_transfer") and not any(p.mechanism == cases.TRANSFER for p in planned):
        planned.append(Planned(len(planned) + 1, "mechanism", "启动｜立案协助", mechanism=cases.TRANSFER))
    if errors:
        raise InvalidInput("action items cannot be done", {FIELD: errors})
    for item in planned:
        try:
            _open_item(session, actor, case, task, item, completion)
        except (InvalidInput, Forbidden, Conflict, NotFound) as exc:
            reasons = [r for rs in getattr(exc, "errors", {}).values() for r in rs] or [str(exc)]
            raise InvalidInput("action items cannot be done", {FIELD: [
                f"line {item.position}: {reason}" for reason in reasons]}) from exc


def _open_item(session: Session, actor: User, case: Case, minutes: HumanTask, planned: Planned,
               completion: Completion) -> ConsultationActionItem:
    own = actor.agency
    assert own is not None  # the minutes lane is an agency's handlers
    item = ConsultationActionItem(
        case_id=case.id, consultation_instance_id=minutes.instance_id, position=planned.position,
        kind=planned.kind, mechanism=planned.mechanism, agency_id=(planned.agency or own).id,
        text=planned.text, deadline_rule=f"{planned.days}wd" if planned.kind == "task" else None,
        state="open", created_by_id=actor.id, created_at=now(session))
    session.add(item)
    session.flush()
    audit.record(session, "action_item_opened", actor=actor, case_id=case.id, instance_id=minutes.instance_id,
                 detail={"item": item.id, "kind": item.kind, "mechanism": item.mechanism,
                         "agency": (planned.agency or own).code, "deadline": item.deadline_rule,
                         "confirm_reason": planned.reason or None})
    if planned.kind == "task":
        assert planned.agency is not None
        started = start_instance(session, case, ACTION_MECHANISM, actor, {
            "initiator_agency": own.code, "action_agency": planned.agency.code,
            "action_deadline": item.deadline_rule, "action_item": item.id})
        item.instance_id = started.instance.id
        item.due_at = next((t.due_at for t in started.opened), None)
        return item
    if planned.mechanism == cases.TRANSFER:
        _request_transfer(session, actor, case, planned, completion)
    else:
        # start_mechanism's checks (policy, closed case, a second instance only with a reason, its
        # audit), in this step's transaction rather than one of its own.
        start = cases.start_mechanism.__wrapped__  # type: ignore[attr-defined]
        item.instance_id = start(session, actor, case.id, planned.mechanism, None, planned.reason or None).id
    close_item(session, actor, item, "done", None)
    return item


def _request_transfer(session: Session, actor: User, case: Case, planned: Planned, completion: Completion) -> None:
    """立案协助 through the diagram's gateway, with start_mechanism's rule for a second one."""
    running = cases.running_instances(session, case.id, cases.TRANSFER)
    if running and not planned.reason:
        ids = ", ".join(str(i) for i in running)
        hint = "write the reason to start another: 启动｜立案协助｜reason"
        raise InvalidInput("mechanism already running", {FIELD: [
            f"'立案协助' already runs on this case (instance {ids}); {hint}"]})
    # The reason is in the item's line and its `action_item_opened` event; the start itself is
    # the worker's, when it delivers the message.
    completion.data["request_transfer"] = True


def close_item(session: Session, actor: User, item: ConsultationActionItem, state: str, note: str | None) -> None:
    """Close the open item as `state` (done, cancelled, withdrawn) with who, when and the note,
    audited as `action_item_<state>`; Conflict when it is closed already."""
    if item.state != "open":
        raise Conflict(f"action item {item.id} is already {item.state}")
    item.state, item.closed_by_id, item.closed_at, item.note = state, actor.id, now(session), note
    audit.record(session, f"action_item_{state}", actor=actor, case_id=item.case_id,
                 instance_id=item.instance_id or item.consultation_instance_id,
                 detail={"item": item.id, "kind": item.kind, "note": note})


def _item_of(session: Session, task: HumanTask) -> ConsultationActionItem | None:
    return session.scalar(select(ConsultationActionItem).where(ConsultationActionItem.instance_id == task.instance_id))


def _action_check(completion: Completion) -> None:
    """The agency says what it did (done) or why it cannot (cancelled): the item closes with it."""
    item = _item_of(completion.session, completion.task)
    if item is None:
        raise Conflict("this task has no action item")
    note = " ".join(str(completion.data.get("note") or "").split()) or None
    close_item(completion.session, completion.actor, item, str(completion.data.get("outcome")), note)


def _action_context(session: Session, actor: User, task: HumanTask, data: Mapping[str, Any]) -> list[tuple]:
    item = _item_of(session, task)
    if item is None:
        return []
    convener = session.get_one(User, item.created_by_id)
    # The item first: its inbox row's subject (engine/oversight/task_guidance.py) is that line.
    return [(ActionLine.ITEM, item.text),
            (ActionLine.CONSULTATION, f"{convener.agency.name if convener.agency else ''}（{convener.display_name}）"),
            (ActionLine.DUE, item.due_at)]


def minutes_context(session: Session, actor: User, task: HumanTask) -> list[tuple]:
    """What the minutes' items may name: the mechanisms and the agencies."""
    if FIELD not in task_form(session, task).get("properties", {}):
        return []
    case = session.get_one(Case, task.case_id)
    return [(ActionLine.STARTABLE, list(startable(session, actor, case).values())),
            (ActionLine.AGENCIES, [a.name for a in assignable(session, case)])]


def case_items(session: Session, actor: User, case: Case) -> list[ConsultationActionItem]:
    """The case's action items in the order recorded, for those who may read its content."""
    if not policy.can_view_case_content(session, actor, case):
        return []
    return list(session.scalars(select(ConsultationActionItem).where(ConsultationActionItem.case_id == case.id)
                                .order_by(ConsultationActionItem.id)))


def open_item_tasks(session: Session, item_ids: list[int]) -> dict[int, HumanTask]:
    """The open task of each task item, by item id."""
    rows = session.execute(select(ConsultationActionItem.id, HumanTask).join(
        HumanTask, HumanTask.instance_id == ConsultationActionItem.instance_id).where(
        ConsultationActionItem.id.in_(item_ids), HumanTask.state == HumanTaskState.OPEN)).all()
    return {item_id: task for item_id, task in rows}  # noqa: C416 (rows are Row pairs)


def _minutes_items(session: Session, task: HumanTask, step_data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The minutes document's action items as they stand when it is issued (right after the
    hook opened them): what, by whom, by when, and the state then."""
    rows = session.scalars(select(ConsultationActionItem).where(
        ConsultationActionItem.consultation_instance_id == task.instance_id).order_by(ConsultationActionItem.id)).all()
    names = mechanism_names(session)
    return {"action_items": [{
        "position": row.position, "kind": row.kind, "agency": row.agency.name, "text": row.text,
        "mechanism": names.get(row.mechanism or "", row.mechanism), "deadline": row.deadline_rule,
        "due_at": row.due_at.isoformat() if row.due_at else None, "state": row.state} for row in rows]}


documents.CONTENT_BUILDERS.update(consultation_minutes=_minutes_items)

HOOKS = {
    "consultation_action": Hook(check=_action_check, context=_action_context),
}
