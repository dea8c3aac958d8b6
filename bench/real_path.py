"""The real case both halves of the real-case benchmark walk: the 立案协助 path of
workflows/case_transfer.bpmn from opening to the handover of seized items, step by step as its
lanes' users do it through the API, and the check that a case really got there.

`drive_case` takes the transport as an argument (`call(method, path, token, body)` giving
(status, JSON)), so the same walk runs over HTTP against gunicorn (bench/real_case.py) and in
process with the Flask test client (bench/real_counts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The facts of a case over the criminal threshold (DMN table), then each later step's form data,
# typed as JSON clients send them (workflows/forms/*.json validate them).
FACTS = {
    "party_name": "某精密机械公司前员工甲",
    "suspected_offence": "侵犯商业秘密罪",
    "loss_amount": 500000,
    "illegal_gain": 0,
    "bankruptcy_caused": False,
    "other_major_loss": False,
    "police_measures_needed": False,
    "summary": "甲离职时拷贝了权利人的配方文件，并在新单位用于生产同类产品。",
    "signing_officers": ["samr_handler", "samr_handler2"],
}
RELEASE = {"released": True, "comment": "已核对"}
RECEIVED = {"received": True, "note": "已收到"}

# (user, diagram task, form data): the lanes' users in the order the process asks for them.
STEPS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("samr_handler", "register_facts", FACTS),
    ("samr_head", "decide_transfer",
     {"transfer_approved": True, "reasons": "达到追诉标准", "administrative_penalty": False}),
    ("samr_liaison", "approve_outgoing_handoff", {"handoff_approved": True, "comment": "材料齐全"}),
    (
        "police_liaison",
        "accept_receipt",
        {
            "received": True,
            "receipt_outcome": "accepted",
            "missing_materials": "",
            "forwarded_to": "",
            "receipt_note": "已签收",
        },
    ),
    ("police_handler", "review_case", {"recommendation": "file", "opinion": "符合立案条件，建议立案"}),
    ("police_head", "decide_filing", {"filing_decision": "file", "filing_reasons": "符合立案条件"}),
    ("police_liaison", "approve_filing_notice_handoff", RELEASE),
    ("samr_liaison", "accept_filing_notice", RECEIVED),
    (
        "samr_handler",
        "prepare_handover",
        {"handover_items": "涉案U盘｜2｜封存完好\n配方打印件｜15｜完好", "note": "随案移交"},
    ),
    ("samr_liaison", "approve_handover_handoff", RELEASE),
    ("police_liaison", "accept_handover", RECEIVED),
    ("police_handler", "confirm_handover", {"discrepancies_found": False, "discrepancies": ""}),
    ("police_liaison", "approve_handover_confirmation_handoff", RELEASE),
    ("samr_liaison", "accept_handover_confirmation", RECEIVED),
)
USERS = tuple(sorted({user for user, _, _ in STEPS}))
# 移送书 (transfer approved and sent), 回执 (police accept), 立案决定书 and 立案通知书 (filed), 交接单
# (items counted).
DOCUMENTS = {"transfer_letter", "receipt", "filing_decision_record", "filing_notice", "handover_list"}
# The review's optional extension by the police head is opened beside the review and ends with it.
CANCELLED = {"extend_review"}
KINDS = ("create", "inbox", "claim", "complete", "case", "documents")
PER_CASE = {"create": 1, "inbox": len(STEPS), "claim": len(STEPS), "complete": len(STEPS), "case": 1, "documents": 1}
REQUESTS = sum(PER_CASE.values())

Call = Callable[[str, str, str, Any], tuple[int, Any]]
# measure(kind, step, thunk) runs one request (thunk) and may time or count it; step is the
# diagram task of a claim or completion, else None.
Measure = Callable[[str, str | None, Callable[[], tuple[int, Any]]], tuple[int, Any]]


class CaseFailed(RuntimeError):
    """A case did not get where the path leads: the benchmark stops rather than time failures."""


def _request(
    call: Call,
    measure: Measure,
    kind: str,
    step: str | None,
    method: str,
    path: str,
    token: str,
    body: Any = None,
    expect: int = 200,
) -> Any:
    status, answer = measure(kind, step, lambda: call(method, path, token, body))
    if status != expect:
        raise CaseFailed(f"{kind} {step or ''} {method} {path}: HTTP {status} {answer}")
    return answer


def drive_case(call: Call, tokens: dict[str, str], measure: Measure, title: str = "某精密机械公司商业秘密案") -> int:
    """Walk one case through the whole path (len(STEPS) steps, REQUESTS requests) and check where it
    ended; returns the case id. Each step is done by the user of its lane: list the case's
    claimable tasks in my inbox, claim the step's task, complete it with its form data."""
    case = _request(
        call,
        measure,
        "create",
        None,
        "POST",
        "/cases",
        tokens["samr_handler"],
        {"title": title, "confidentiality": "confidential"},
        expect=201,
    )
    case_id = case["id"]
    for user, bpmn_id, data in STEPS:
        token = tokens[user]
        page = _request(
            call, measure, "inbox", None, "GET", f"/tasks?case_id={case_id}&view=claimable&per_page=100", token
        )
        found = [item["id"] for item in page["items"] if item["bpmn_id"] == bpmn_id]
        if len(found) != 1:
            raise CaseFailed(f"case {case_id}: {user} sees {[i['bpmn_id'] for i in page['items']]}, not one {bpmn_id}")
        task_id = found[0]
        _request(call, measure, "claim", bpmn_id, "POST", f"/tasks/{task_id}/claim", token)
        done = _request(call, measure, "complete", bpmn_id, "POST", f"/tasks/{task_id}/complete", token, {"data": data})
        if done["state"] != "completed":
            raise CaseFailed(f"case {case_id}: {bpmn_id} is {done['state']} after completing it")
    shown = _request(call, measure, "case", None, "GET", f"/cases/{case_id}", tokens["samr_handler"])
    documents = _request(call, measure, "documents", None, "GET", f"/cases/{case_id}/documents", tokens["samr_handler"])
    check_end(shown, documents)
    return case_id


def check_end(shown: dict, documents: list[dict]) -> None:
    """The end state of the path, as SAMR's handler sees the case: every instance completed, every
    step completed once, nothing open, the police taking part, and the path's documents issued."""
    case_id = shown["id"]
    instances = [i["status"] for i in shown["instances"]]
    if not instances or set(instances) != {"completed"}:
        raise CaseFailed(f"case {case_id}: instances {instances}, expected all completed")
    states: dict[str, list[str]] = {}
    for task in shown["tasks"]:
        states.setdefault(task["state"], []).append(task["bpmn_id"])
    if states.get("open"):
        raise CaseFailed(f"case {case_id}: tasks still open {states['open']}")
    expected = sorted(bpmn_id for _, bpmn_id, _ in STEPS)
    if sorted(states.get("completed", [])) != expected:
        raise CaseFailed(f"case {case_id}: completed {sorted(states.get('completed', []))}, expected {expected}")
    if set(states.get("cancelled", [])) - CANCELLED:
        raise CaseFailed(f"case {case_id}: unexpected cancelled tasks {states['cancelled']}")
    agencies = {p["agency"] for p in shown["participants"]}
    if not {"samr", "police"} <= agencies:
        raise CaseFailed(f"case {case_id}: participants {sorted(agencies)}")
    kinds = sorted(d["kind"] for d in documents)
    if kinds != sorted(DOCUMENTS):
        raise CaseFailed(f"case {case_id}: documents {kinds}, expected {sorted(DOCUMENTS)}")
