"""A small district whose figures are known: the seeded cases of the statistics tests (engine, web
and browser), walked through the engine with the clock moved, and the figures of March 2026
counted by hand from what the cases below do.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine import create_case, record_result, start_mechanism
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, FILE, NOT_FILE, act, police_decide

SHANGHAI = ZoneInfo("Asia/Shanghai")
FACTS_B = {**FACTS_500K, "loss_amount": 300000, "illegal_gain": 120000}
PENALTY = {"decision_number": "东市监罚〔2026〕7号", "decided_on": "2026-03-09", "party_name": "某科技有限公司",
           "violation": "以不正当手段获取权利人技术秘密", "penalty": "罚款人民币五十万元", "fine_amount": 500000,
           "trade_secret_matter": True}

# March 2026, per agency, as the cases below make them.
MARCH = {
    "cases_opened": {"samr": 3}, "transfers": {"samr": 2}, "filings": {"police": 1}, "non_filings": {"police": 1},
    "supervisions": {}, "sent_for_prosecution": {"police": 1}, "investigations_withdrawn": {},
    "suspects": {"police": 3}, "compulsory_measures": {"police": 2}, "prosecutions": {"procuratorate": 1},
    "persons_prosecuted": {"procuratorate": 2}, "non_prosecutions": {}, "persons_not_prosecuted": {},
    "judgments": {"court": 1}, "persons_convicted": {"court": 2}, "persons_acquitted": {},
    "compensation": {"court": 800000}, "loss_amount": {"samr": 800000}, "illegal_gain": {"samr": 120000}, "amounts_unknown": {},
    "penalties": {"samr": 1}, "fines": {"samr": 500000},
}
APRIL = {"cases_opened": {"samr": 1}, "transfers": {"samr": 1}, "loss_amount": {"samr": 500000}}

# Time per stage in March (and so in the first quarter), (mechanism, step): (tasks completed,
# median hours, 90th percentile hours). A and B each walk the same transfer: facts, the head's
# approval and the liaison's handover at one moment; the police liaison signs for it the next day
# (24 hours); the police review it, decide and hand their decision back, and the SAMR liaison takes
# it, at once. B, not filed, also gets its materials back at once. C records its penalty at once.
# D's steps are April's; C's facts and D's receipt are still open.
TRANSFER_STEPS = ("register_facts", "decide_transfer", "approve_outgoing_handoff", "accept_receipt", "review_case",
                  "decide_filing", "approve_filing_notice_handoff", "accept_filing_notice")
RETURN_STEPS = ("return_materials", "approve_return_handoff", "accept_returned_materials", "check_returned_materials")
MARCH_STAGES = {
    **{("case_transfer", step): (2, 24, 24) if step == "accept_receipt" else (2, 0, 0) for step in TRANSFER_STEPS},
    **{("case_transfer", step): (1, 0, 0) for step in RETURN_STEPS},
    ("penalty_disclosure", "record_penalty_decision"): (1, 0, 0),
}
APRIL_STAGES = {("case_transfer", step): (1, 0, 0) for step in TRANSFER_STEPS[:3]}
# Legal periods met in March, rule: (tasks completed under it, met). Every step above with a legal
# period was done in time; the receipts were signed exactly at their 24-hour due time, which is in
# time. The liaisons' handovers: per transfer the police liaison's receipt of the case and handover
# of the decision, and the SAMR liaison's receipt of it (A and B: 2 x 3), plus B's returned materials
# handed over and received (2): 8. Facts, review and the penalty record run under no legal period.
MARCH_PERIODS_MET = {
    "liaison_handoff": (8, 8), "transfer_decision": (2, 2), "transfer_send": (2, 2),
    "police_filing_decision": (2, 2), "materials_return": (1, 1), "returned_materials_check": (1, 1),
}
APRIL_PERIODS_MET = {"transfer_decision": (1, 1), "transfer_send": (1, 1)}


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def transfer(session, users, title: str, facts: dict):
    case = create_case(session, users["samr_handler"], title)
    act(session, users["samr_handler"], case.id, "register_facts", facts)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    return case


def seed(session, users, clock) -> dict:
    """A: transferred 2 March, filed 3 March; the police first recorded 撤案 with one suspect, then
    (the newest, which counts) sent three suspects for prosecution on 5 March after detaining two
    on 4 March; two prosecuted on 10 March, both convicted on 20 March with 800,000 yuan civil
    compensation. B: transferred 4 March (loss 300,000, gain 120,000), not filed 5 March.
    C: 9 March, a penalty of 500,000 yuan decided on 9 March (its transfer opened, no facts yet).
    D: 1 April, transferred (loss 500,000)."""
    clock.set(at(3, 2))
    a = transfer(session, users, "甲公司配方被盗案", FACTS_500K)
    clock.set(at(3, 3))
    police_decide(session, users, a.id, FILE)
    clock.set(at(3, 4))
    b = transfer(session, users, "乙公司源代码泄露案", FACTS_B)
    clock.set(at(3, 5))
    police_decide(session, users, b.id, NOT_FILE)
    record_result(session, users["police_handler"], a.id, "investigation", {
        "outcome": "withdrawn", "decided_on": "2026-03-05", "persons": 1, "summary": "初查",
        "measures": [{"kind": "summons", "ordered_on": "2026-03-04", "persons": 1}]})
    clock.set(at(3, 5, 16))
    record_result(session, users["police_handler"], a.id, "investigation", {
        "outcome": "prosecution_recommended", "decided_on": "2026-03-05", "persons": 3, "summary": "移送审查起诉",
        "measures": [{"kind": "detention", "ordered_on": "2026-03-04", "persons": 2}]})
    clock.set(at(3, 9))
    c = create_case(session, users["samr_handler"], "丙公司行政处罚案")
    start_mechanism(session, users["samr_handler"], c.id, "penalty_disclosure")
    act(session, users["samr_handler"], c.id, "record_penalty_decision", PENALTY)
    clock.set(at(3, 10))
    record_result(session, users["procuratorate_handler"], a.id, "prosecution",
                  {"outcome": "prosecuted", "decided_on": "2026-03-10", "persons": 2, "summary": "提起公诉"})
    clock.set(at(3, 20))
    record_result(session, users["court_handler"], a.id, "judgment", {
        "outcome": "convicted", "decided_on": "2026-03-20", "persons": 2, "compensation": 800000,
        "summary": "二被告人均判处有期徒刑"})
    clock.set(at(4, 1))
    d = transfer(session, users, "丁公司客户名单案", FACTS_500K)
    clock.set(at(4, 2))
    return {"a": a, "b": b, "c": c, "d": d}
