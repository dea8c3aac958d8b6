"""Benchmark of a real case: the whole 立案协助 path of workflows/case_transfer.bpmn (case opened,
facts registered, transfer approved by the head, the liaisons hand over, the police receive,
review and file, the filing notice goes back, the seized items are handed over and counted; 15
steps by 6 users, with the documents they issue) driven over HTTP with the demo users' tokens
against gunicorn on PostgreSQL, each case checked at its end (bench/real_path.py).

Reports per real case the requests, the server's CPU (web processes, and the PostgreSQL backends
serving them), the SQL statements and Python calls (in process: bench/real_counts.py), p50/p95
per request kind, and cases/s with 1 and 4 clients on 1, 2 and 4 gunicorn workers; then each
step's completion p50 against its floor: 1.5 × (the raw SpiffWorkflow cycle of the same diagram
at that step + an authenticated no-op write through the same stack, bench/real_app.py).

No worker runs: inside the one collaboration SpiffWorkflow delivers the messages between the
pools itself, and the run checks that no message row was left for a worker.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from .common import RESULTS, cpu_seconds, fresh_database, machine, process_tree, seed, tokens
from .real_app import NOOP_PATH, create_noop_table
from .real_counts import RawCycles, backend_pids, count_in_process
from .real_path import STEPS, USERS, drive_case
from .real_report import write_report
from .servers import call, server

APP = "bench.real_app:production_app()"
CLIENTS = (1, 4)


def http_call(base: str):
    def send(method: str, path: str, token: str, body=None):
        return call(base, method, path, token, body)

    return send


def timer(timings: dict):
    """`measure` for drive_case that records each request's wall time by kind and by step."""

    def measure(kind, step, thunk):
        began = time.perf_counter()
        result = thunk()
        spent = (time.perf_counter() - began) * 1000
        timings[kind].append(spent)
        if step:
            timings[(kind, step)].append(spent)
        return result

    return measure


class Usage:
    """CPU seconds of the server's processes and of the PostgreSQL backends of its database
    between `start` and `stop`. A backend that ends in between takes its CPU with it (`stop`
    says how many did); gunicorn's workers keep their pooled connections, so none should."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid

    def start(self) -> None:
        self.web0 = cpu_seconds(process_tree(self.pid))
        self.db0 = {pid: cpu_seconds([pid]) for pid in backend_pids(self.url)}

    def stop(self) -> tuple[float, float, int]:
        web = cpu_seconds(process_tree(self.pid)) - self.web0
        now = backend_pids(self.url)
        # A backend opened meanwhile counts from zero.
        db = sum(cpu_seconds([pid]) - self.db0.get(pid, 0.0) for pid in now)
        return web, db, len(set(self.db0) - now)


def run_cell(base: str, client_tokens: list[dict], cases: int, usage: Usage) -> dict:
    timings: dict = defaultdict(list)
    measure, send = timer(timings), http_call(base)
    per_client = max(1, cases // len(client_tokens))

    def client(user_tokens: dict) -> None:
        for _ in range(per_client):
            drive_case(send, user_tokens, measure)

    usage.start()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(client_tokens)) as pool:
        for future in [pool.submit(client, t) for t in client_tokens]:
            future.result()
    wall = time.perf_counter() - began
    web, db, lost = usage.stop()
    done = per_client * len(client_tokens)
    return {"cases": done, "wall": wall, "web": web, "db": db, "lost": lost, "timings": timings}


def run_noops(base: str, token: str, count: int, usage: Usage) -> dict:
    timings = []
    usage.start()
    for _ in range(count):
        began = time.perf_counter()
        status, answer = call(base, "POST", NOOP_PATH, token, {})
        timings.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise RuntimeError(f"no-op write: HTTP {status} {answer}")
    web, db, _ = usage.stop()
    return {"timings": timings, "web": web, "db": db, "count": count}


def run_paired(base: str, user_tokens: dict, cases: int, raw: RawCycles, samples: dict) -> None:
    """One client walks `cases` cases; right after each completion, the same user's no-op write
    and the raw cycle of the same step (on a raw instance walked in step with the case) are timed
    too. Each step's three figures are thus taken moments apart, under the same load of the
    machine, which other work on it changes from minute to minute."""
    send, stored = http_call(base), [None]

    def timed(thunk):
        began = time.perf_counter()
        result = thunk()
        return result, (time.perf_counter() - began) * 1000

    def measure(kind, step, thunk):
        if kind == "create":
            stored[0] = raw.start()
        result, spent = timed(thunk)
        if kind == "complete":
            user = next(u for u, s, _ in STEPS if s == step)
            (status, answer), noop = timed(lambda: send("POST", NOOP_PATH, user_tokens[user], {}))
            if status != 200:
                raise RuntimeError(f"no-op write: HTTP {status} {answer}")
            stored[0], cycle = timed(lambda: raw.cycle(stored[0], step))
            for name, value in (("complete", spent), ("noop", noop), ("raw", cycle)):
                samples[step][name].append(value)
        return result

    for _ in range(cases):
        drive_case(send, user_tokens, measure)


def run_servers(url: str, workers_list, args, client_tokens: list[dict], raw: RawCycles) -> tuple[dict, dict, dict]:
    """Each worker count's server: driven by 1 and by 4 clients (throughput), then the floor's
    no-op writes alone (their latency and CPU), then the paired walk (`run_paired`)."""
    cells, floor = {}, {"timings": [], "web": 0.0, "db": 0.0, "count": 0}
    paired: dict = defaultdict(lambda: defaultdict(list))
    for workers in workers_list:
        with server(url, workers, APP) as (base, pid):
            usage = Usage(url, pid)
            # Warm every worker: imports, the process model's spec, the token cache, the pool.
            with ThreadPoolExecutor(max_workers=max(workers, 2)) as pool:
                list(
                    pool.map(
                        lambda t: drive_case(http_call(base), t, lambda k, s, f: f()),
                        [client_tokens[i % len(client_tokens)] for i in range(max(workers, 2))],
                    )
                )
            for clients in CLIENTS:
                cell = cells[(workers, clients)] = run_cell(base, client_tokens[:clients], args.cases, usage)
                print(f"  {workers} worker(s), {clients} client(s): {cell['cases']} cases in {cell['wall']:.1f} s")
            part = run_noops(base, client_tokens[0]["samr_handler"], args.noops, usage)
            floor["timings"] += part["timings"]
            for key in ("web", "db", "count"):
                floor[key] += part[key]
            run_paired(base, client_tokens[0], args.paired, raw, paired)
            print(f"  {workers} worker(s): floor and {args.paired} paired cases done", flush=True)
    return cells, floor, paired


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench real_case", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=20, help="cases per (workers, clients) run, split among clients")
    parser.add_argument("--workers", default="1,2,4", help="gunicorn worker counts, comma-separated")
    parser.add_argument("--noops", type=int, default=100, help="no-op writes alone per server (the floor's CPU)")
    parser.add_argument("--paired", type=int, default=10, help="cases per server timed beside the floor and raw cycle")
    parser.add_argument("--counted", type=int, default=4, help="cases counted in process")
    parser.add_argument("--profiled", type=int, default=5, help="cases profiled in process (pyinstrument)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the file the dated section is appended to")
    args = parser.parse_args(argv)
    workers_list = [int(w) for w in args.workers.split(",")]

    print("raw SpiffWorkflow cycles per step …", flush=True)
    raw = RawCycles()
    url = fresh_database("postgres", "real_case")
    seed(url, workflows=("case_transfer",))
    create_noop_table(url)
    client_tokens = [tokens(url, USERS, f"bench client {i}") for i in range(max(CLIENTS))]
    print("in process: statements, calls, CPU …", flush=True)
    counts = count_in_process(url, client_tokens[0], args.counted, 50, args.profiled)
    print("over HTTP …", flush=True)
    cells, floor, paired = run_servers(url, workers_list, args, client_tokens, raw)
    write_report(machine(url), datetime.now(timezone.utc), args, raw, counts, cells, floor, paired, args.results)


if __name__ == "__main__":
    main()
