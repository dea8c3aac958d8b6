"""The real-case benchmark's dated section of RESULTS.md: throughput and CPU by workers and
clients, latency by request kind, the work per case in process, and each step's completion
against its floor."""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

from .common import ROOT, p50_p95
from .real_path import DOCUMENTS, KINDS, PER_CASE, REQUESTS, STEPS, USERS


def code_version() -> str:
    """The commit measured, and the top-level folders with uncommitted changes: several people
    work in the tree, so a figure names exactly what it measured."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode:
        return "not a git checkout"
    dirty = sorted({line[3:].split("/", 1)[0] for line in status.stdout.splitlines() if line[:2] != "??"})
    return head.stdout.strip() + (f" with uncommitted changes in {', '.join(dirty)}" if dirty else "")


def _pp(values) -> str:
    if not values:
        return "—"
    p50, p95 = p50_p95(values)
    return f"{p50:.1f} / {p95:.1f}"


def _of_kind(mapping: dict, kind: str) -> float:
    """A per-key total summed over a kind's keys (`kind`, or (`kind`, step) for claims and completions)."""
    return sum(v for k, v in mapping.items() if k == kind or (isinstance(k, tuple) and k[0] == kind))


def _cells(cells: dict) -> list[str]:
    lines = [
        (
            "**Throughput and server CPU per real case** (gunicorn sync workers on this machine's "
            "cores; the clients run on the same machine)"
        ),
        "",
        (
            "| gunicorn workers | clients | cases | cases/s | requests/s | web CPU / case | "
            "PostgreSQL CPU / case | complete p50 / p95 |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for (workers, clients), cell in sorted(cells.items()):
        n = cell["cases"]
        lost = f" ({cell['lost']} backend ended)" if cell["lost"] else ""
        lines.append(
            f"| {workers} | {clients} | {n} | {n / cell['wall']:.2f} | {n * REQUESTS / cell['wall']:.0f} | "
            f"{cell['web'] * 1000 / n:.0f} ms | {cell['db'] * 1000 / n:.0f} ms{lost} | "
            f"{_pp(cell['timings']['complete'])} ms |"
        )
    lines.append("")
    keys = sorted(cells)
    lines += [
        "**Latency per request kind** (ms, p50 / p95; w = gunicorn workers, c = clients)",
        "",
        "| request (per case) | " + " | ".join(f"{w}w·{c}c" for w, c in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for kind in KINDS:
        lines.append(
            f"| {kind} (×{PER_CASE[kind]}) | " + " | ".join(_pp(cells[k]["timings"][kind]) for k in keys) + " |"
        )
    return [*lines, ""]


def _work(counts: dict) -> list[str]:
    work, noop = counts["work"], counts["noop"]
    lines = [
        (
            "**Work per real case, in process** (Flask test client on PostgreSQL, "
            f"{work.cases} cases counted; BEGIN/COMMIT not counted)"
        ),
        "",
        "| request | per case | SQL statements each | Python calls each |",
        "|---|---|---|---|",
    ]
    for kind in KINDS:
        n = _of_kind(work.requests, kind)
        lines.append(
            f"| {kind} | {PER_CASE[kind]} | {_of_kind(work.statements, kind) / n:.1f} | "
            f"{_of_kind(work.calls, kind) / n / 1000:.1f}k |"
        )
    statements = sum(work.statements.values()) / work.cases
    calls = sum(work.calls.values()) / work.cases
    lines.append(f"| **per real case** | {REQUESTS} | **{statements:.0f}** | **{calls / 1000:.0f}k** |")
    n = noop.requests["noop"]
    lines.append(
        f"| no-op write (the floor) | — | {noop.statements['noop'] / n:.1f} | {noop.calls['noop'] / n / 1000:.1f}k |"
    )
    lines += [
        "",
        (
            f"CPU per real case in process: app {work.app_cpu_ms:.0f} ms, its PostgreSQL backend "
            f"{work.db_cpu_ms:.0f} ms; per no-op write: app {noop.app_cpu_ms:.2f} ms, backend "
            f"{noop.db_cpu_ms:.2f} ms."
        ),
        "",
    ]
    return lines


def _steps(raw, counts, paired, servers: int) -> tuple[list[str], int]:
    work = counts["work"]
    lines = [
        (
            "**Completion per step against its floor**: complete p50 over HTTP, 1 client ≤ 1.5 × (raw "
            "SpiffWorkflow cycle of the same step + the no-op write), the three timed one right after "
            f"the other for every completion of the paired walks ({len(paired[STEPS[0][1]]['complete'])} "
            f"per step, on the {servers} servers)"
        ),
        "",
        (
            "| # | step | user | raw state before (KB) | raw calls | completion in process: SQL, calls | "
            "raw cycle p50 | no-op write p50 | complete p50 / p95 | target | result |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    passed = 0
    for i, (user, step, _) in enumerate(STEPS, 1):
        samples = paired[step]
        p50 = statistics.median(samples["complete"])
        cycle, noop = statistics.median(samples["raw"]), statistics.median(samples["noop"])
        target = 1.5 * (cycle + noop)
        ok = p50 <= target
        passed += ok
        n = work.requests[("complete", step)]
        lines.append(
            f"| {i} | {step} | {user} | {raw.sizes[step] / 1024:.0f} | {raw.calls[step] / 1000:.1f}k | "
            f"{work.statements[('complete', step)] / n:.0f}, {work.calls[('complete', step)] / n / 1000:.1f}k | "
            f"{cycle:.2f} ms | {noop:.2f} ms | {_pp(samples['complete'])} ms | ≤ {target:.1f} ms | "
            f"{'pass' if ok else 'FAIL'} |"
        )
    every = {name: [v for step in paired.values() for v in step[name]] for name in ("complete", "raw", "noop")}
    p50 = {name: statistics.median(values) for name, values in every.items()}
    lines += [
        "",
        (
            f"{passed} of {len(STEPS)} steps pass. All steps together: complete p50 {p50['complete']:.1f} ms "
            f"against 1.5 × (raw cycle {p50['raw']:.2f} ms + no-op write {p50['noop']:.2f} ms) = "
            f"{1.5 * (p50['raw'] + p50['noop']):.1f} ms, i.e. {p50['complete'] / (p50['raw'] + p50['noop']):.2f} × "
            f"the sum. Python calls of a completion against the raw cycle of its step: "
            f"{_call_ratio(work, raw.calls)}."
        ),
        "",
    ]
    return lines, passed


def _call_ratio(work, raw_calls) -> str:
    ratios = [work.calls[("complete", s)] / work.requests[("complete", s)] / raw_calls[s] for _, s, _ in STEPS]
    return f"{min(ratios):.1f}–{max(ratios):.1f} × (median {statistics.median(ratios):.1f} ×)"


def write_report(machine_line, stamp, args, raw, counts, cells, floor, paired, results: Path) -> None:
    floor_p50, floor_p95 = p50_p95(floor["timings"])
    steps, passed = _steps(raw, counts, paired, len({workers for workers, _ in cells}))
    lines = [
        f"### {stamp.strftime('%Y-%m-%d %H:%M UTC')} — real case: 立案协助 over HTTP, gunicorn on PostgreSQL",
        "",
        f"Machine: {machine_line}",
        "",
        f"Code: {code_version()}",
        "",
        (
            f"A real case: {len(STEPS)} steps by {len(USERS)} demo users ({', '.join(USERS)}), each "
            f"listing the case's claimable tasks, claiming its task and completing it with its form "
            f"data; with opening the case, reading it and listing its documents, {REQUESTS} requests. "
            f"Every case is checked at its end: its instance completed, every step completed once, "
            f"nothing open, the police taking part, documents {', '.join(sorted(DOCUMENTS))}. "
            f"Size: {args.cases} cases per run (split among the clients); per server {args.noops} no-op "
            f"writes alone and {args.paired} paired cases (below)."
        ),
        "",
    ]
    lines += _cells(cells) + _work(counts) + steps
    lines += [
        (
            f"- floor: `POST /api/v1/bench/noop` (bench/real_app.py, served by the benchmark's "
            f"gunicorn beside the real API; not in web/): the bearer-token check, one INSERT in "
            f"its own transaction and commit, a JSON answer through flask-smorest. Alone over HTTP, "
            f"1 client: p50 {floor_p50:.2f} ms, p95 {floor_p95:.2f} ms ({floor['count']} requests); "
            f"server CPU {floor['web'] * 1000 / floor['count']:.2f} ms web + "
            f"{floor['db'] * 1000 / floor['count']:.2f} ms PostgreSQL per request"
        ),
        (
            "- raw cycle: SpiffWorkflow alone on workflows/case_transfer.bpmn, as SpiffWorkflow stores "
            "a workflow (spec included): deserialize the instance as it stands before the step, "
            "complete the step's task with the variables the engine hands it, run engine steps until "
            "it waits (message delivery between the pools included), serialize; timed in the benchmark's "
            "process right after the HTTP completion of the same step"
        ),
        (
            "- PostgreSQL CPU: the backends of the benchmark database (pg_stat_activity) from /proc; "
            "its WAL writer, checkpointer and autovacuum are not counted"
        ),
        (
            "- no worker ran: the messages between the pools are delivered inside the collaboration "
            "by SpiffWorkflow; the run checks that no message row was left and that the counted "
            "cases' audit chains verify"
        ),
    ]
    if counts.get("profile"):
        lines.append(f"- call tree of {args.profiled} whole cases, in process: {counts['profile']}")
    block = "\n".join(lines) + "\n"
    print(block)
    with results.open("a", encoding="utf-8") as out:
        out.write(block + "\n")
    print(f"{passed} of {len(STEPS)} steps within their floor")
