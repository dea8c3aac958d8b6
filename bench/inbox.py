"""Benchmark 3: the inbox at scale on PostgreSQL.

Generates N cases (default 100,000) with one process instance each and ten human tasks each
(1,000,000), loaded with COPY behind a progress bar: 10% of the tasks open (half of those claimed),
due dates spread over ±30 days around now, so about half of the open ones are overdue. Then times
the first page of a handler's inbox and of the supervisor's overdue list through the API (Flask
test client in this process: server time without the network) and prints the plans (EXPLAIN
ANALYZE) of the queries those requests ran.
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from models import Agency, Membership, ProcessModel, User, make_engine, make_session_factory

from .common import RESULTS, fresh_database, p50_p95, progress, report, seed, tokens

TASKS_PER_CASE = 10
CHUNK = 10_000
REQUESTS = {
    "handler inbox, page 1": ("samr_handler", "/api/v1/tasks?view=all&page=1&per_page=20"),
    "supervisor overdue, page 1": ("office_supervisor", "/api/v1/supervision/overdue?page=1&per_page=20"),
}


def load(url: str, cases: int) -> None:
    sql = make_engine(url)
    with make_session_factory(sql)() as session:
        model_id = session.scalar(select(ProcessModel.id).where(ProcessModel.key == "case_transfer"))
        agencies = dict(session.execute(select(Agency.code, Agency.id)).all())
        lanes: dict[tuple[int, str], list[int]] = {}
        for m in session.scalars(select(Membership)):
            if m.role in ("handler", "head", "liaison"):
                lanes.setdefault((m.agency_id, m.role), []).append(m.user_id)
        creator = session.scalar(select(User.id).where(User.username == "samr_handler"))
    lane_list = sorted(lanes)
    rng = random.Random(2026)
    now = datetime.now(timezone.utc)
    raw = sql.raw_connection()
    cursor = raw.cursor()
    started = time.monotonic()
    for first in range(1, cases + 1, CHUNK):
        ids = range(first, min(first + CHUNK, cases + 1))
        with cursor.copy("COPY case_file (id, number, title, confidentiality, owner_agency_id, "
                         "created_by_id, created_at) FROM STDIN") as copy:
            for i in ids:
                copy.write_row((i, f"LD2026-{i:06d}", f"案件 {i}", "confidential", agencies["samr"], creator,
                                now - timedelta(days=rng.uniform(0, 365))))
        with cursor.copy("COPY case_participant (case_id, agency_id, joined_at) FROM STDIN") as copy:
            for i in ids:
                copy.write_row((i, agencies["samr"], now))
                copy.write_row((i, agencies["police"], now))
        with cursor.copy("COPY process_instance (id, case_id, process_model_id, status, state_json, version, "
                         "started_at, started_by_id) FROM STDIN") as copy:
            for i in ids:
                copy.write_row((i, i, model_id, "running", "{}", 1, now, creator))
        with cursor.copy("COPY human_task (instance_id, case_id, task_guid, bpmn_id, title, agency_id, role, "
                         "state, assignee_id, claimed_at, created_at, due_at, deadline_rule, due_provisional, "
                         "completed_at) FROM STDIN") as copy:
            for i in ids:
                for k in range(TASKS_PER_CASE):
                    agency_id, role = lane_list[(i + k) % len(lane_list)]
                    is_open = rng.random() < 0.10
                    assignee = rng.choice(lanes[(agency_id, role)]) if is_open and rng.random() < 0.5 else None
                    created = now - timedelta(days=rng.uniform(0, 60))
                    copy.write_row((i, i, f"{i:08x}-0000-4000-8000-{k:012x}", f"step_{k}", f"步骤 {k}",
                                    agency_id, role, "open" if is_open else "completed", assignee,
                                    created if assignee else None, created,
                                    now + timedelta(days=rng.uniform(-30, 30)), "5wd", False,
                                    None if is_open else now))
        raw.commit()
        progress("cases (+10 tasks each)", ids[-1], cases, started)
    for table in ("case_file", "process_instance", "human_task"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    raw.commit()
    raw.driver_connection.autocommit = True
    raw.driver_connection.execute("VACUUM ANALYZE")
    raw.close()
    sql.dispose()


def measure(url: str, repeats: int) -> tuple[list[tuple], list[str]]:
    import os

    os.environ["DATABASE_URL"] = url
    from web import create_app
    from web.db import db

    app = create_app({"TESTING": True})
    client = app.test_client(use_cookies=False)
    keys = tokens(url, {user for user, _ in REQUESTS.values()})
    statements: list[tuple[str, object]] = []
    rows, plans = [], []
    with app.app_context():
        sql = db.engine

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    for label, (user, path) in REQUESTS.items():
        headers = {"Authorization": f"Bearer {keys[user]}"}
        timings = []
        for n in range(repeats + 5):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.get_data(as_text=True)
            if n >= 5:
                timings.append(elapsed)
        total = response.get_json()["total"]
        p50, p95 = p50_p95(timings)
        rows.append((f"{label} ({total:,} rows match): p50 / p95", f"{p50:.1f} / {p95:.1f} ms",
                     "p95 ≤ 25 ms", p95 <= 25))
        statements.clear()
        event.listen(sql, "before_cursor_execute", capture)
        client.get(path, headers=headers)
        event.remove(sql, "before_cursor_execute", capture)
        plans.append(f"#### {label}: `GET {path}`\n")
        with sql.connect() as conn:
            for statement, parameters in statements:
                plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {statement}", parameters).scalars()
                plans.append("```\n" + statement.strip() + "\n--\n" + "\n".join(plan) + "\n```\n")
    sql.dispose()
    return rows, plans


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench inbox", description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, help="cases (10 human tasks each)")
    parser.add_argument("--repeats", type=int, default=100, help="timed requests per page")
    args = parser.parse_args(argv)
    url = fresh_database("postgres", "inbox")
    seed(url, ("case_transfer",))
    started = time.monotonic()
    load(url, args.cases)
    loaded = time.monotonic() - started
    rows, plans = measure(url, args.repeats)
    rows.insert(0, ("generated and loaded",
                    f"{args.cases:,} cases, {args.cases * TASKS_PER_CASE:,} tasks in {loaded:.0f} s (COPY)", "", None))
    plan_file = RESULTS.parent / "plans" / "inbox.md"
    plan_file.parent.mkdir(exist_ok=True)
    plan_file.write_text("# Query plans of the inbox benchmark (last run)\n\n" + "\n".join(plans), encoding="utf-8")
    report("3. inbox at scale — API on PostgreSQL, in process", url, rows,
           ["query plans (EXPLAIN ANALYZE): bench/plans/inbox.md"])
    print("\n".join(plans))


if __name__ == "__main__":
    main()
