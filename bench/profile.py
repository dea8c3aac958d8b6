"""Profile the slow paths with pyinstrument (`pip install -e '.[bench]'`), in this process on
PostgreSQL: the API requests of full three-task instances (Flask test client, so the profile is
the server's work only), and firing due timers (what `liandong worker` does). The call trees go
to bench/profiles/*.txt.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

from sqlalchemy import event, text

from .common import BENCH, fresh_database, report, seed, spiff_cycle_ms, spiff_step_calls, tokens
from .served_calls import marking, served_calls
from .timers import prepare

PROFILES = BENCH / "profiles"


KINDS = ("create", "inbox", "claim", "complete", "case")


def api_instances(client, token: str, count: int, around=None) -> None:
    """Drive `count` full instances of the three-task process as the api benchmark does (11
    requests each). `around(kind, call)` runs each request, e.g. to measure it."""
    headers = {"Authorization": f"Bearer {token}"}
    around = around or (lambda kind, call: call())
    for _ in range(count):
        case = around("create", lambda: client.post("/api/v1/cases", json={"title": "剖析案件"},
                                                    headers=headers)).get_json()
        for _ in range(3):
            page = around("inbox", lambda: client.get(f"/api/v1/tasks?case_id={case['id']}&view=claimable",
                                                      headers=headers)).get_json()
            task_id = page["items"][0]["id"]
            claimed = around("claim", lambda: client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers))
            assert claimed.status_code == 200, claimed.get_json()
            done = around("complete", lambda: client.post(f"/api/v1/tasks/{task_id}/complete",
                                                          json={"data": {"note": "ok"}}, headers=headers))
            assert done.status_code == 200, done.get_json()
        shown = around("case", lambda: client.get(f"/api/v1/cases/{case['id']}", headers=headers))
        assert shown.status_code == 200


def write(name: str, profiler) -> None:
    PROFILES.mkdir(exist_ok=True)
    path = PROFILES / f"{name}.txt"
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    print(f"wrote {path}")


def main(argv=None) -> None:
    from pyinstrument import Profiler

    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    parser.add_argument("--instances", type=int, default=30, help="instances profiled")
    parser.add_argument("--count", type=int, default=12, help="instances counted and timed per batch")
    parser.add_argument("--timers", type=int, default=300)
    parser.add_argument("--served", type=int, default=20,
                        help="instances counted inside a gunicorn worker (bench/served_calls.py); 0: none")
    args = parser.parse_args(argv)
    url = fresh_database("postgres", "profile")
    seed(url, ("case_transfer", "bench_timer"))
    os.environ["DATABASE_URL"] = url
    from web import create_app
    from web.db import db

    # The token cache keeps a token's user for seconds: at profiled speed (ten times slower) a
    # read of the token would fall into each counted instance, at real speed one in hundreds.
    settings = {"TESTING": True, "API_TOKEN_CACHE_SECONDS": 3600}
    token = tokens(url, ["samr_handler"])["samr_handler"]
    # Statements are counted by an engine event listener, and an engine with any listener has
    # SQLAlchemy dispatch the events of every statement from then on (events cannot be turned
    # off again): counted on an app of their own, the calls and CPU on one without listeners.
    counted_app = create_app(settings)
    statements = count_statements(counted_app.test_client(use_cookies=False), token,
                                  db.state(counted_app).engine, args.count)
    app = create_app(settings)
    client = app.test_client(use_cookies=False)
    api_instances(client, token, 3)
    rows = count_work(client, token, statements, args.count, app)
    if args.served:
        rows += served_rows(url, token, args.served)
    profiler = Profiler(interval=0.0005)
    with profiler:
        api_instances(client, token, args.instances)
    write("api", profiler)

    from engine.worker.timers import fire_due_timers

    prepare(url, args.timers)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE timer SET due_at = now() - interval '1 minute' WHERE status = 'pending'"))
        session = db.new_session(app)
        profiler = Profiler(interval=0.0005)
        with profiler:
            fired = fire_due_timers(session, limit=args.timers)
        session.close()
    assert fired == args.timers, fired
    write("timers", profiler)
    report("profile — API requests of full instances, in process on PostgreSQL", url, rows,
           ["call trees: bench/profiles/api.txt, bench/profiles/timers.txt"])


def count_statements(client, token: str, sql, count: int) -> dict[str, int]:
    """SQL statements per request kind of `count` full instances (after three not counted)."""
    statements: dict[str, int] = defaultdict(int)
    current = [None]

    def counted(*_args) -> None:
        if current[0]:
            statements[current[0]] += 1

    def counting(kind, call):
        current[0] = kind
        try:
            return call()
        finally:
            current[0] = None

    api_instances(client, token, 3)
    event.listen(sql, "before_cursor_execute", counted)
    try:
        api_instances(client, token, count, counting)
    finally:
        event.remove(sql, "before_cursor_execute", counted)
    return statements


def count_work(client, token: str, statements: dict[str, int], count: int, app) -> list[tuple]:
    """Per request kind and per full instance (11 requests): SQL statements (`statements`, from
    `count_statements`) and Python function calls, which do not depend on the machine or its load,
    so they show a change's effect exactly; and the app's CPU time (the least of five batches'
    means, the batch least disturbed by other work), beside the raw SpiffWorkflow cycle's calls and
    CPU measured now. The calls are counted twice: all of them, the Flask test client's building of
    the request and reading of the answer included (the figure the targets are judged on), and those
    inside the app's WSGI call alone (what a server process does for the request once it has parsed
    it)."""
    calls, cpu = defaultdict(int), defaultdict(lambda: float("inf"))
    in_app = defaultdict(int)
    current, serving = [None], [False]
    # The calls of each completion by the task it completes (first, second, third of the instance).
    by_task, completions = [0, 0, 0], [0]

    def profiled(frame, event, arg) -> None:
        if event in ("call", "c_call"):
            calls[current[0]] += 1
            if serving[0]:
                in_app[current[0]] += 1

    wsgi_app = app.wsgi_app
    def counting(kind, call):
        current[0] = kind
        before = calls[kind]
        sys.setprofile(profiled)
        try:
            return call()
        finally:
            sys.setprofile(None)
            current[0] = None
            if kind == "complete":
                by_task[completions[0] % 3] += calls[kind] - before
                completions[0] += 1

    app.wsgi_app = marking(wsgi_app, serving)
    try:
        api_instances(client, token, count, counting)
    finally:
        app.wsgi_app = wsgi_app
    for _ in range(5):
        spent = defaultdict(float)

        def timing(kind, call):
            started = time.process_time()
            try:
                return call()
            finally:
                spent[kind] += time.process_time() - started

        api_instances(client, token, count, timing)
        for kind, seconds in spent.items():
            cpu[kind] = min(cpu[kind], seconds * 1000 / count / PER_INSTANCE[kind])
    step_calls, cycle_ms = spiff_step_calls(), spiff_cycle_ms()
    rows = []
    for kind in KINDS:
        each = PER_INSTANCE[kind] * count
        rows.append((f"{kind} (×{PER_INSTANCE[kind]} per instance): SQL statements, Python calls (in the app), CPU",
                     (f"{statements[kind] / each:.1f}, {calls[kind] / each / 1000:.1f}k "
                      f"({in_app[kind] / each / 1000:.1f}k), {cpu[kind]:.2f} ms"), "", None))
    total_statements = sum(statements.values()) / count
    total_calls = sum(calls[kind] for kind in KINDS) / count
    app_calls = sum(in_app[kind] for kind in KINDS) / count
    total_cpu = sum(cpu[kind] * PER_INSTANCE[kind] for kind in KINDS)
    completion = calls["complete"] / count / PER_INSTANCE["complete"]
    rows.append(("per full instance (11 requests): SQL statements", f"{total_statements:.0f}", "≤ 30",
                 total_statements <= 30))
    rows.append(("per full instance: Python calls (in the app)",
                 f"{total_calls / 1000:.1f}k ({app_calls / 1000:.1f}k)", "≤ 33k", total_calls <= 33_000))
    rows.append(("per full instance: app CPU", f"{total_cpu:.0f} ms", "", None))
    rows.append(("raw SpiffWorkflow cycle of each task (reference): Python calls; CPU of the second",
                 ", ".join(f"{n / 1000:.1f}k" for n in step_calls) + f"; {cycle_ms:.2f} ms", "", None))
    # Each completion against the raw cycle of the same task: the third ends the process, in the
    # app as in the raw cycle. Before 2026-12-07 the mean of the three was set against the second
    # task's raw cycle alone; that figure is shown beside for reading older runs.
    ratios = [by_task[n] / count / step_calls[n] for n in range(3)]
    rows.append(("a completion, in raw cycles of the same task: Python calls (first, second, third task)",
                 ", ".join(f"{r:.2f} ×" for r in ratios), "≤ 2 × each", max(ratios) <= 2))
    rows.append(("the three completions' mean, in the second task's raw cycle (the measure before 2026-12-07)",
                 f"{completion / step_calls[1]:.2f} ×", "", None))
    rows.append(("per full instance, in the second task's raw cycles: Python calls, app CPU",
                 f"{total_calls / step_calls[1]:.0f} ×, {total_cpu / cycle_ms:.0f} ×", "", None))
    return rows


PER_INSTANCE = {"create": 1, "inbox": 3, "claim": 3, "complete": 3, "case": 1}


def served_rows(url: str, token: str, count: int) -> list[tuple]:
    """The same instances served by gunicorn: the calls in its worker per request kind and per
    full instance, all of them (parsing and writing included) and inside the app (for reading
    the in-process figures beside what production does; not judged)."""
    served = served_calls(url, token, count, api_instances, tempfile.mkdtemp(prefix="liandong-bench-served-"))
    rows = [(f"{kind} served by gunicorn: Python calls in its worker (in the app)",
             f"{served[kind][0] / 1000:.1f}k ({served[kind][1] / 1000:.1f}k)", "", None) for kind in KINDS]
    every = sum(served[kind][0] * PER_INSTANCE[kind] for kind in KINDS)
    in_app = sum(served[kind][1] * PER_INSTANCE[kind] for kind in KINDS)
    rows.append(("per full instance served by gunicorn: Python calls in its worker (in the app)",
                 f"{every / 1000:.1f}k ({in_app / 1000:.1f}k)", "", None))
    return rows


if __name__ == "__main__":
    main()
