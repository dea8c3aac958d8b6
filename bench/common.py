"""What every benchmark shares: the benchmark database, the machine line, the raw SpiffWorkflow
reference cycle, percentiles, CPU and RSS from /proc, and the dated rows of RESULTS.md.

The benchmark databases are `liandong_bench_<benchmark>` on the PostgreSQL server of LIANDONG_BENCH_PG_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/liandong_bench); each is dropped and
re-created by its benchmark, so never point the URL at a database anything else uses.
"""
from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
BPMN = BENCH / "bpmn"
RESULTS = BENCH / "RESULTS.md"
PG_URL = os.environ.get("LIANDONG_BENCH_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/liandong_bench")
CLK_TCK = os.sysconf("SC_CLK_TCK")
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1", "liandong"}


# --- databases --------------------------------------------------------------------------------

def fresh_database(backend: str, name: str) -> str:
    """An empty database for one benchmark: `liandong_bench_<name>` re-created, or a new SQLite
    file (so benchmarks never share a database)."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="liandong-bench-"))
        return f"sqlite:///{folder / 'bench.sqlite'}"
    url = make_url(PG_URL)
    url = url.set(database=f"{url.database}_{name}")
    if url.database in FORBIDDEN_DATABASES or url.database.startswith("liandong_t"):
        raise SystemExit(f"refusing to drop database {url.database!r}: use a benchmark-only one")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def seed(url: str, bench_diagrams: tuple[str, ...] = (), workflows: tuple[str, ...] = ()) -> None:
    """Schema by the migrations, agencies, demo users, and the named diagrams of workflows/ and
    of bench/bpmn (only those a benchmark uses: workflows/ may be mid-edit)."""
    from engine.bootstrap import create_demo_users, ensure_agencies
    from engine.runtime.deploy import deploy_paths
    from models import make_engine, make_session_factory
    from models.migrations import create_or_upgrade

    engine = make_engine(url)
    create_or_upgrade(engine)
    with make_session_factory(engine)() as session:
        ensure_agencies(session)
        create_demo_users(session)
        paths = [ROOT / "workflows" / f"{name}.bpmn" for name in workflows]
        paths += [BPMN / f"{name}.bpmn" for name in bench_diagrams]
        if paths:
            deploy_paths(session, paths)
    engine.dispose()


def tokens(url: str, usernames, client: str = "bench") -> dict[str, str]:
    """A fresh API token per user, made through the engine as `liandong token create` does."""
    import engine as core
    from models import User, make_engine, make_session_factory

    sql = make_engine(url)
    with make_session_factory(sql)() as session:
        found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(set(usernames))))}
        result = {name: core.create_token(session, found[name], client)[1] for name in usernames}
    sql.dispose()
    return result


def database_version(url: str) -> str:
    if url.startswith("sqlite"):
        import sqlite3
        return f"SQLite {sqlite3.sqlite_version}"
    sql = create_engine(url)
    with sql.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
    sql.dispose()
    return f"PostgreSQL {version}"


def machine(url: str) -> str:
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({platform.machine()}), load {load:.1f}, "
            f"Python {platform.python_version()}, {database_version(url)}")


# --- measuring --------------------------------------------------------------------------------

def percentile(values, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def p50_p95(values) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 95)


def _spiff_reference():
    """The three-task process as raw SpiffWorkflow runs it: a new instance's stored JSON, and one
    cycle (deserialize, complete the ready user task, serialize), which returns the new JSON."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN / "case_transfer.bpmn"))
    spec = parser.get_spec("p_three")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def new() -> str:
        workflow = BpmnWorkflow(spec, {})
        workflow.do_engine_steps()
        return serializer.serialize_json(workflow)

    def cycle(stored: str) -> str:
        workflow = serializer.deserialize_json(stored)
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data["note"] = "ok"
        task.run()
        workflow.do_engine_steps()
        return serializer.serialize_json(workflow)

    return new, cycle


def spiff_cycle_ms(rounds: int = 200) -> float:
    """The raw SpiffWorkflow reference, measured now: deserialize an instance of the three-task
    process (spec included, as SpiffWorkflow stores it), complete its ready user task, serialize
    it again. Median in ms over `rounds` cycles after a warm-up."""
    new, cycle = _spiff_reference()
    timings = []
    for i in range(rounds + 20):
        stored = new()
        for _ in range(3):
            start = time.perf_counter()
            stored = cycle(stored)
            if i >= 20:
                timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


# The first step of the real transfer diagram: facts that the later gateways and DMN table read.
_TRANSFER_FACTS = {
    "party_name": "某公司前员工", "suspected_offence": "侵犯商业秘密罪", "loss_amount": 500000,
    "illegal_gain": 0, "bankruptcy_caused": False, "other_major_loss": False,
    "police_measures_needed": False, "summary": "基准：拷贝配方文件",
}


def transfer_cycle_ms(rounds: int = 100) -> float:
    """The same raw cycle on a real diagram, for scale: a new instance of
    workflows/case_transfer.bpmn (the collaboration of five pools, its DMN table; ~85 KB stored
    with its spec), deserialized, its first task completed, serialized again. The issue's
    "about 2.5 ms" for a cycle describes an instance of this size; the api benchmark's target
    stays against the three-task process it drives."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "workflows" / "case_transfer.bpmn"))
    parser.add_dmn_files([str(path) for path in sorted((ROOT / "workflows").glob("*.dmn"))])
    spec, subprocess_specs = parser.get_collaboration("case_transfer")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    timings = []
    for i in range(rounds + 10):
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.do_engine_steps()
        stored = serializer.serialize_json(workflow)
        start = time.perf_counter()
        workflow = serializer.deserialize_json(stored)
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(_TRANSFER_FACTS)
        task.run()
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        if i >= 10:
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def spiff_step_calls() -> list[int]:
    """Python function calls of the raw SpiffWorkflow cycle (as `spiff_cycle_ms` times it) of each
    of the three tasks in turn, on one new instance: the reference for the call counts of
    bench/profile.py, which do not depend on the machine. Each task's own: completing the last
    one also runs the end of the process (its end events, the pool's completion), the others
    only make the next task ready."""
    new, cycle = _spiff_reference()
    stored, counts = new(), []
    calls = [0]

    def profiled(frame, event, arg) -> None:
        if event in ("call", "c_call"):
            calls[0] += 1

    for _ in range(3):
        calls[0] = 0
        sys.setprofile(profiled)
        try:
            stored = cycle(stored)
        finally:
            sys.setprofile(None)
        counts.append(calls[0])
    return counts


def process_tree(pid: int) -> list[int]:
    """The pid and all its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task_dir in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):  # the thread ended meanwhile
                todo.extend(int(c) for c in (task_dir / "children").read_text().split())
    return found


def cpu_seconds(pids) -> float:
    """User + system CPU seconds consumed so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


_last_drawn = [0.0]


def progress(label: str, done: int, total: int, started: float) -> None:
    """A one-line progress bar on stderr, redrawn at most twice a second."""
    if done < total and time.monotonic() - _last_drawn[0] < 0.5:
        return
    _last_drawn[0] = time.monotonic()
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {rate:,.0f}/s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


# --- reporting --------------------------------------------------------------------------------

def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "FAIL")


def report(title: str, url: str, rows: list[tuple[str, str, str, bool | None]], notes: list[str] = ()) -> None:
    """Print the figures and append them, dated, to RESULTS.md. Rows: (figure, value, target, ok)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"### {stamp} — {title}", "", f"Machine: {machine(url)}", "",
             "| figure | value | target | result |", "|---|---|---|---|"]
    lines += [f"| {figure} | {value} | {target or '—'} | {verdict(ok) if target else 'n/a'} |"
              for figure, value, target, ok in rows]
    lines += [""] + [f"- {note}" for note in notes] + ([""] if notes else [])
    block = "\n".join(lines) + "\n"
    print(block)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nRows are appended by `make bench` (bench/README.md).\n\n")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(block + "\n")
