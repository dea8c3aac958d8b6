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


def _steps(raw, counts, cells, floor_p50) -> tuple[list[str], int]:
    work, raw_ms, raw_calls, raw_sizes = counts["work"], raw.medians(), raw.calls, raw.sizes
    one = [cell for (_, clients), cell in sorted(cells.items()) if clients == 1]
    lines = [
        (
            "**Completion per step against its floor**: complete p50 over HTTP with 1 client "
            f"(the {len(one)} one-client runs pooled) ≤ 1.5 × (raw SpiffWorkflow cycle of the step + "
            f"the no-op write's p50, {floor_p50:.2f} ms)"
        ),
        "",
        (
            "| # | step | user | state before (KB) | raw cycle | raw calls | completion in process: SQL, calls | "
            "complete p50 / p95 | target | result |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    passed = 0
    for i, (user, step, _) in enumerate(STEPS, 1):
        samples = [t for cell in one for t in cell["timings"][("complete", step)]]
        p50 = statistics.median(samples)
        target = 1.5 * (raw_ms[step] + floor_p50)
        ok = p50 <= target
        passed += ok
        n = work.requests[("complete", step)]
        lines.append(
            f"| {i} | {step} | {user} | {raw_sizes[step] / 1024:.0f} | {raw_ms[step]:.2f} ms | "
            f"{raw_calls[step] / 1000:.1f}k | {work.statements[('complete', step)] / n:.0f}, "
            f"{work.calls[('complete', step)] / n / 1000:.1f}k | {_pp(samples)} ms | "
            f"≤ {target:.1f} ms | {'pass' if ok else 'FAIL'} |"
        )
    all_complete = [t for cell in one for t in cell["timings"]["complete"]]
    mean_raw = statistics.mean(raw_ms.values())
    lines += [
        "",
        (
            f"{passed} of {len(STEPS)} steps pass. All completions: p50 {statistics.median(all_complete):.1f} ms "
            f"against 1.5 × (mean raw cycle {mean_raw:.2f} ms + floor {floor_p50:.2f} ms) = "
            f"{1.5 * (mean_raw + floor_p50):.1f} ms. Python calls of a completion against the raw cycle of "
            f"its step: {_call_ratio(work, raw_calls)}."
        ),
        "",
    ]
    return lines, passed


def _call_ratio(work, raw_calls) -> str:
    ratios = [work.calls[("complete", s)] / work.requests[("complete", s)] / raw_calls[s] for _, s, _ in STEPS]
    return f"{min(ratios):.1f}–{max(ratios):.1f} × (median {statistics.median(ratios):.1f} ×)"


def write_report(machine_line, stamp, args, raw, counts, cells, floor, results: Path) -> None:
    floor_p50, floor_p95 = p50_p95(floor["timings"])
    steps, passed = _steps(raw, counts, cells, floor_p50)
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
            f"Size: {args.cases} cases per run (split among the clients), {args.noops} no-op writes "
            f"per server, raw cycle over {raw.walks} walks of the path in sittings spread over the run."
        ),
        "",
    ]
    lines += _cells(cells) + _work(counts) + steps
    lines += [
        (
            f"- floor: `POST /api/v1/bench/noop` (bench/real_app.py, served by the benchmark's "
            f"gunicorn beside the real API; not in web/): the bearer-token check, one INSERT in "
            f"its own transaction and commit, a JSON answer through flask-smorest. Over HTTP, 1 "
            f"client: p50 {floor_p50:.2f} ms, p95 {floor_p95:.2f} ms ({floor['count']} requests); "
            f"server CPU {floor['web'] * 1000 / floor['count']:.2f} ms web + "
            f"{floor['db'] * 1000 / floor['count']:.2f} ms PostgreSQL per request"
        ),
        (
            "- raw cycle: SpiffWorkflow alone on workflows/case_transfer.bpmn, as SpiffWorkflow stores "
            "a workflow (spec included): deserialize the instance as it stands before the step, "
            "complete the step's task with the variables the engine hands it, run engine steps until "
            "it waits (message delivery between the pools included), serialize; median over the walks"
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
