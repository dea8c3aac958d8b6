"""Benchmark 2: does a step cost more as an instance accumulates history?

- An evidence package reviewed one item at a time (a multi-instance user task): the real
  workflows/evidence_recognition.bpmn with a package of N items (its form accepts up to 1,000),
  and its review step alone (bench/bpmn/bench_review.bpmn) with N items.
- A bounded loop (bench/bpmn/bench_loop.bpmn, the shape of a supplement loop) run M times
  (default 300); the diagrams in workflows/ bound their own loops at 3 rounds.

Each completion is timed through the engine (engine.complete_task, one transaction, on the
benchmark database); the figure is the cost of the last completions against the 10th.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

import engine
from models import HumanTask, ProcessInstance, User, make_engine, make_session_factory

from .common import fresh_database, progress, report, seed, spiff_cycle_ms

ITEM = {"kind": "interview_record", "description": "询问笔录", "source": "现场提取",
        "collected_at": "2026-02-01T10:00:00+08:00", "collector_1": "王承办", "collector_2": "李承办",
        "confidential": True}
# Interview records cannot be recognised (the receiving agency re-takes them): reject with a reason.
REJECT = {"lawful": False, "authentic": True, "relevant": True, "verdict": "rejected", "reason": "重新询问"}


def open_tasks(session, case_id: int, bpmn_id: str) -> list[HumanTask]:
    return list(session.scalars(
        select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open",
                                HumanTask.bpmn_id == bpmn_id)
        .order_by(HumanTask.id).execution_options(populate_existing=True)))


def act(session, user, case_id: int, bpmn_id: str, data: dict) -> float:
    """Claim and complete the case's first open `bpmn_id` task; returns the completion's ms."""
    task = open_tasks(session, case_id, bpmn_id)[0]
    engine.claim_task(session, user, task.id)
    start = time.perf_counter()
    engine.complete_task(session, user, task.id, data)
    return (time.perf_counter() - start) * 1000


def state_kb(session, case_id: int) -> float:
    states = session.scalars(select(ProcessInstance.state_json).where(ProcessInstance.case_id == case_id)
                             .execution_options(populate_existing=True))
    return max(len(s) for s in states) / 1024


def evidence_run(session, users, items: int) -> tuple[list[float], float]:
    from datetime import datetime

    session.info["evidence_store"] = engine.EvidenceStore(Path(tempfile.mkdtemp()) / "evidence", 1 << 20)
    handler = users["samr_handler"]
    case = engine.create_case(session, handler, "证据增长基准")
    data = {**ITEM, "collected_at": datetime.fromisoformat(ITEM["collected_at"])}
    ids = [engine.add_evidence(session, session.info["evidence_store"], handler, case.id, data, None, None).id
           for _ in range(items)]
    engine.start_mechanism(session, handler, case.id, "evidence_recognition")
    act(session, handler, case.id, "submit_package",
        {"proceed": True, "item_ids": ids, "receiving_agency": "police", "purpose": "基准"})
    act(session, users["samr_liaison"], case.id, "approve_package_handoff", {"handoff_approved": True})
    act(session, users["police_liaison"], case.id, "receive_package", {"received": True})
    reviewer = users["police_handler"]
    timings, started = [], time.monotonic()
    for n in range(items):
        timings.append(act(session, reviewer, case.id, "review_item", REJECT))
        progress("evidence reviews", n + 1, items, started)
    return timings, state_kb(session, case.id)


def review_run(session, users, items: int) -> tuple[list[float], float]:
    handler = users["samr_handler"]
    case = engine.create_case(session, handler, "逐项审查增长基准")
    engine.start_mechanism(session, handler, case.id, "bench_review",
                           {"review_items": {str(i): i for i in range(1, items + 1)}})
    timings, started = [], time.monotonic()
    for n in range(items):
        timings.append(act(session, handler, case.id, "review_item", {"verdict": "recognised"}))
        progress("item reviews", n + 1, items, started)
    return timings, state_kb(session, case.id)


def loop_run(session, users, rounds: int, profile: bool = False) -> tuple[list[float], float]:
    """With `profile`, 20 more rounds run after the timed ones under the profiler (it would slow
    the timed ones), into bench/profiles/growth_loop.txt."""
    handler = users["samr_handler"]
    case = engine.create_case(session, handler, "循环增长基准")
    extra = 20 if profile else 0
    engine.start_mechanism(session, handler, case.id, "bench_loop", {"max_rounds": rounds + extra})
    timings, started, profiler = [], time.monotonic(), None
    for n in range(rounds + extra):
        if n == rounds:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        elapsed = act(session, handler, case.id, "step", {"note": "补充"})
        if n < rounds:
            timings.append(elapsed)
        progress("loop rounds", n + 1, rounds + extra, started)
    if profiler is not None:
        profiler.stop()
        from .profile import write

        write("growth_loop", profiler)
    return timings, state_kb(session, case.id)


def compare(label: str, timings: list[float], size_kb: float, reference: float) -> list[tuple]:
    tenth = statistics.median(timings[5:15])  # the 10th completion, as a median of its neighbours
    last = statistics.median(timings[-10:])
    ratio = last / tenth
    n = len(timings)
    return [
        (f"{label}: completion #10 (median #6–#15)", f"{tenth:.1f} ms ({tenth / reference:.0f} × cycle)", "", None),
        (f"{label}: completion #{n} (median of last 10)", f"{last:.1f} ms ({last / reference:.0f} × cycle)", "", None),
        (f"{label}: last / 10th", f"{ratio:.2f} ×", "≤ 1.5 ×", ratio <= 1.5),
        (f"{label}: instance state after {n}", f"{size_kb:,.0f} KiB", "", None),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench growth", description=__doc__)
    parser.add_argument("--items", type=int, default=300,
                        help="items of the evidence package and of the review alone (full: 1000)")
    parser.add_argument("--rounds", type=int, default=300, help="loop rounds (full: 300)")
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--profile", action="store_true", help="profile the loop's last 20 rounds")
    args = parser.parse_args(argv)
    reference = spiff_cycle_ms()
    url = fresh_database(args.backend, "growth")
    seed(url, ("case_transfer", "bench_loop", "bench_review"), ("evidence_recognition",))
    sql = make_engine(url)
    session = make_session_factory(sql)()
    users = {u.username: u for u in session.scalars(select(User))}
    rows = []
    loop, loop_kb = loop_run(session, users, args.rounds, args.profile)
    rows += compare(f"loop of {args.rounds}", loop, loop_kb, reference)
    evidence, evidence_kb = evidence_run(session, users, args.items)
    rows += compare(f"evidence_recognition, package of {args.items}", evidence, evidence_kb, reference)
    review, review_kb = review_run(session, users, args.items)
    rows += compare(f"multi-instance review of {args.items}", review, review_kb, reference)
    session.close()
    sql.dispose()
    report("2. growth — completion cost vs history (engine, in process)", url, rows,
           [f"raw SpiffWorkflow cycle of the three-task process in this run: {reference:.2f} ms",
            "timed: engine.complete_task (validate, load state, run, write state + task rows + audit)"])


if __name__ == "__main__":
    main()
