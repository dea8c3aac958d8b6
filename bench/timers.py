"""Benchmark 4: N due timers (default 10,000) fired by 1 and by 4 `liandong worker` processes on
PostgreSQL: throughput, and proof that each timer fired exactly once.

One instance of bench/bpmn/bench_timer.bpmn (wait on a timer, then end) is started through the
engine; its case, instance and timer rows are then cloned with INSERT ... SELECT to N instances.
The workers are started first and left to settle; the clock starts when every timer is made due.
A first, in-process round counts the SQL statements per timer (BEGIN and COMMIT, which psycopg
sends by itself, not counted) and the CPU per timer of the worker and of its PostgreSQL backend:
figures that depend far less on the machine's load than throughput, for before/after comparisons.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select, text

import engine
from models import ProcessInstance, User, make_engine, make_session_factory

from .common import ROOT, cpu_seconds, fresh_database, progress, report, seed
from .servers import CLI

BASE_ID = 1_000_000


def prepare(url: str, count: int) -> None:
    sql = make_engine(url)
    with make_session_factory(sql)() as session:
        handler = session.scalar(select(User).where(User.username == "samr_handler"))
        case = engine.create_case(session, handler, "定时基准", mechanism="bench_timer")
        instance_id = session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case.id))
        case_id = case.id
    clones = {"case_id": case_id, "instance_id": instance_id, "n": count - 1, "base": BASE_ID}
    with sql.begin() as conn:
        conn.execute(text(
            "INSERT INTO case_file (id, number, title, confidentiality, owner_agency_id, created_by_id, created_at) "
            "SELECT :base + g, 'BT-' || (:base + g), title, confidentiality, owner_agency_id, created_by_id, "
            "created_at FROM case_file, generate_series(1, :n) g WHERE id = :case_id"), clones)
        conn.execute(text(
            "INSERT INTO case_participant (case_id, agency_id, joined_at) SELECT :base + g, agency_id, joined_at "
            "FROM case_participant, generate_series(1, :n) g WHERE case_id = :case_id"), clones)
        conn.execute(text(
            "INSERT INTO process_instance (id, case_id, process_model_id, status, state_json, version, "
            "started_at, started_by_id) SELECT :base + g, :base + g, process_model_id, status, state_json, "
            "version, started_at, started_by_id FROM process_instance, generate_series(1, :n) g "
            "WHERE id = :instance_id"), clones)
        conn.execute(text(
            "INSERT INTO timer (instance_id, case_id, task_guid, bpmn_id, rule, due_at, due_provisional, status, "
            "created_at) SELECT :base + g, :base + g, task_guid, bpmn_id, rule, due_at, due_provisional, status, "
            "created_at FROM timer, generate_series(1, :n) g WHERE instance_id = :instance_id"), clones)
        for table in ("case_file", "process_instance"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    sql.dispose()


def scalar(sql, query: str) -> int:
    with sql.connect() as conn:
        return conn.scalar(text(query))


def make_due(sql) -> None:
    with sql.begin() as conn:
        conn.execute(text("UPDATE timer SET due_at = now() - interval '1 minute' WHERE status = 'pending'"))


def backend_pids(sql) -> set[int]:
    """The PostgreSQL server processes of the engine's pooled connections."""
    with sql.connect() as conn:
        return {conn.scalar(text("SELECT pg_backend_pid()"))}


def count_work(count: int) -> tuple[float, float, float]:
    """SQL statements, and CPU milliseconds of the worker and of its PostgreSQL backend, per timer
    of one in-process worker (engine.worker.drain) firing `count` due timers."""
    from engine.worker.passes import drain

    url = fresh_database("postgres", "timers")
    seed(url, ("bench_timer",))
    prepare(url, count)
    sql = make_engine(url)
    make_due(sql)
    statements = [0]

    def counted(*_args) -> None:
        statements[0] += 1

    backends = backend_pids(sql)  # the one connection the worker's session will reuse
    event.listen(sql, "before_cursor_execute", counted)
    cpu, server = time.process_time(), cpu_seconds(backends)
    with make_session_factory(sql)() as session:
        fired = drain(session).timers
    cpu, server = time.process_time() - cpu, cpu_seconds(backends) - server
    event.remove(sql, "before_cursor_execute", counted)
    if backend_pids(sql) != backends:
        server = float("nan")  # the pool opened another connection: not all of it was counted
    sql.dispose()
    if fired != count:
        raise RuntimeError(f"fired {fired} of {count} timers in process")
    return statements[0] / count, cpu * 1000 / count, server * 1000 / count


def fire(url: str, count: int, workers: int, settle: float) -> tuple[float, dict[str, int]]:
    home = tempfile.mkdtemp(prefix="liandong-bench-worker-")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "HOME": home,
           "LIANDONG_AUDIT_KEY": "bench-audit-key-" * 2,
           "LIANDONG_INSTANCE": os.path.join(home, "instance"), "PYTHONPATH": str(ROOT)}
    # The workers write to it until the `finally` below closes it.
    log = open(os.path.join(home, "worker.log"), "w")  # noqa: SIM115
    processes = [subprocess.Popen([sys.executable, "-c", CLI, "worker", "--interval", "0.1"], cwd=ROOT,
                                  env=env, stdout=log, stderr=log) for _ in range(workers)]
    sql = make_engine(url)
    try:
        time.sleep(settle)  # imports and the first (empty) pass of every worker
        make_due(sql)
        started = time.monotonic()
        while True:
            pending = scalar(sql, "SELECT count(*) FROM timer WHERE status = 'pending'")
            progress(f"timers, {workers} worker(s)", count - pending, count, started)
            if not pending:
                break
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(Path(log.name).read_text())
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        proof = {
            "timers fired": scalar(sql, "SELECT count(*) FROM timer WHERE status = 'fired'"),
            "timer_fired events": scalar(sql, "SELECT count(*) FROM audit_event WHERE event_type = 'timer_fired'"),
            "timers fired twice": scalar(sql, "SELECT count(*) FROM (SELECT instance_id FROM audit_event WHERE "
                                              "event_type = 'timer_fired' GROUP BY instance_id HAVING count(*) > 1) d"),
            "instances completed": scalar(sql, "SELECT count(*) FROM process_instance WHERE status = 'completed'"),
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()
        sql.dispose()
    return elapsed, proof


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench timers", description=__doc__)
    parser.add_argument("--timers", type=int, default=2_000, help="due timers (full: 10000)")
    parser.add_argument("--workers", default="1,4", help="worker counts to run, comma-separated")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds for the workers to start")
    parser.add_argument("--count-timers", type=int, default=300,
                        help="timers of the in-process round that counts statements (0: skip it)")
    args = parser.parse_args(argv)
    rows, url = [], ""
    if args.count_timers:
        per_timer, cpu, server = count_work(args.count_timers)
        rows.append(((f"in process, per timer ({args.count_timers} timers): SQL statements, CPU of the "
                      "worker, of its PostgreSQL backend"),
                     f"{per_timer:.1f} statements, {cpu:.1f} ms, {server:.1f} ms", "", None))
    for workers in [int(w) for w in args.workers.split(",")]:
        url = fresh_database("postgres", "timers")
        seed(url, ("bench_timer",))
        prepare(url, args.timers)
        elapsed, proof = fire(url, args.timers, workers, args.settle)
        rate = args.timers / elapsed
        target = "≥ 500 timers/s" if workers == 4 else ""
        rows.append((f"{workers} worker(s): {args.timers:,} timers", f"{elapsed:.1f} s, {rate:.0f} timers/s",
                     target, rate >= 500 if target else None))
        exact = all(v == args.timers for k, v in proof.items() if k != "timers fired twice") \
            and proof["timers fired twice"] == 0
        rows.append((f"{workers} worker(s): exactly once",
                     ", ".join(f"{k} {v:,}" for k, v in proof.items()), "each fired once", exact))
    report("4. timers — `liandong worker` processes on PostgreSQL", url, rows)


if __name__ == "__main__":
    main()
