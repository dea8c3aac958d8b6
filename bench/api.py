"""Benchmark 1: task completion through the HTTP API.

Clients drive full instances of a three-user-task process (bench/bpmn/case_transfer.bpmn) over
HTTP against a real server: create the case (which starts the instance), then per task list the
inbox, claim, complete, and finally read the case: 11 requests per instance.
"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from .common import (
    cpu_seconds,
    fresh_database,
    p50_p95,
    process_tree,
    report,
    seed,
    spiff_cycle_ms,
    tokens,
    transfer_cycle_ms,
)
from .servers import server, timed_call

DATA = {"data": {"note": "ok"}}
CALLS = ("create", "inbox", "claim", "complete", "case")


def drive_instance(base: str, token: str, timings: dict) -> None:
    case = timed_call(timings, "create", base, "POST", "/cases", token, {"title": "基准案件"}, expect=201)
    for _ in range(3):
        page = timed_call(timings, "inbox", base, "GET", f"/tasks?case_id={case['id']}&view=claimable", token)
        task_id = page["items"][0]["id"]
        timed_call(timings, "claim", base, "POST", f"/tasks/{task_id}/claim", token)
        done = timed_call(timings, "complete", base, "POST", f"/tasks/{task_id}/complete", token, DATA)
        assert done["state"] == "completed", done
    case = timed_call(timings, "case", base, "GET", f"/cases/{case['id']}", token)
    assert [i["status"] for i in case["instances"]] == ["completed"], case["instances"]


def run_clients(base: str, client_tokens: list[str], per_client: int) -> tuple[dict, float]:
    timings: dict = {}

    def client(token: str) -> None:
        for _ in range(per_client):
            drive_instance(base, token, timings)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(client_tokens)) as pool:
        for future in [pool.submit(client, t) for t in client_tokens]:
            future.result()
    return timings, time.perf_counter() - start


def bench(backend: str, instances: int, workers: int, reference: float, transfer: float | None = None) -> None:
    url = fresh_database(backend, "api")
    seed(url, ("case_transfer",))
    names = ["samr_handler", "samr_handler2"]
    client_tokens = [tokens(url, names, f"bench client {i}") for i in range(4)]
    rows, notes = [], []
    with server(url, workers) as (base, pid):
        for _ in range(3):  # warm-up: imports, caches, connection pools
            drive_instance(base, client_tokens[0]["samr_handler"], {})
        for clients in (1, 4):
            pick = [client_tokens[i][names[i % 2]] for i in range(clients)]
            per_client = max(1, instances // clients)
            before = cpu_seconds(process_tree(pid))
            timings, wall = run_clients(base, pick, per_client)
            cpu = cpu_seconds(process_tree(pid)) - before
            done = per_client * clients
            label = f"{clients} client{'s' if clients > 1 else ''}"
            for kind in CALLS:
                p50, p95 = p50_p95(timings[kind])
                target, ok = "", None
                if kind == "complete" and clients == 1:
                    target, ok = f"p50 ≤ 3 × {reference:.2f} ms", p50 <= 3 * reference
                rows.append((f"{label}: {kind} p50 / p95", f"{p50:.1f} / {p95:.1f} ms", target, ok))
            p50 = p50_p95(timings["complete"])[0]
            if clients == 1:
                complete_p50 = p50
            rows.append((f"{label}: complete p50 / SpiffWorkflow cycle", f"{p50 / reference:.1f} ×", "≤ 3 ×",
                         p50 / reference <= 3))
            per_instance = cpu / done * 1000
            rows.append((f"{label}: server CPU per instance (11 requests)", f"{per_instance:.1f} ms",
                         "≤ 40 ms", per_instance <= 40))
            rows.append((f"{label}: instances/s", f"{done / wall:.2f} ({done} instances)", "", None))
    kind = (f"gunicorn -w {workers} on PostgreSQL" if backend == "postgres"
            else "`liandong serve` (dev server + worker thread) on SQLite")
    notes.append(f"raw SpiffWorkflow cycle (deserialize, complete one task, serialize) of the same "
                 f"process, measured in this run: {reference:.2f} ms median")
    if transfer is not None:
        notes.append(f"for scale, not the target: the same cycle on the real transfer diagram "
                     f"(workflows/case_transfer.bpmn, first task): {transfer:.2f} ms median; 1 client's "
                     f"complete p50 is {complete_p50 / transfer:.1f} × that")
    notes.append("server CPU is the web processes' utime+stime from /proc (PostgreSQL's own backends "
                 "are not counted)")
    report(f"1. task completion over HTTP — {kind}", url, rows, notes)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench api", description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--instances", type=int, default=40, help="instances per client-count run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (PostgreSQL)")
    args = parser.parse_args(argv)
    reference, transfer = spiff_cycle_ms(), transfer_cycle_ms()
    for backend in (["postgres", "sqlite"] if args.backend == "both" else [args.backend]):
        bench(backend, args.instances, args.workers, reference, transfer)


if __name__ == "__main__":
    main()
