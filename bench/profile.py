"""Profile the slow paths with pyinstrument (`pip install -e '.[bench]'`), in this process on
PostgreSQL: the API requests of full three-task instances (Flask test client, so the profile is
the server's work only), and firing due timers (what `liandong worker` does). The call trees go
to bench/profiles/*.txt.
"""
from __future__ import annotations

import argparse
import os
import time

from sqlalchemy import event, text

from .common import BENCH, fresh_database, report, seed, tokens
from .timers import prepare

PROFILES = BENCH / "profiles"


def api_instances(client, token: str, count: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(count):
        case = client.post("/api/v1/cases", json={"title": "剖析案件"}, headers=headers).get_json()
        for _ in range(3):
            page = client.get(f"/api/v1/tasks?case_id={case['id']}&view=claimable", headers=headers).get_json()
            task_id = page["items"][0]["id"]
            assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers).status_code == 200
            done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "ok"}}, headers=headers)
            assert done.status_code == 200, done.get_json()
        assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 200


def write(name: str, profiler) -> None:
    PROFILES.mkdir(exist_ok=True)
    path = PROFILES / f"{name}.txt"
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    print(f"wrote {path}")


def main(argv=None) -> None:
    from pyinstrument import Profiler

    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    parser.add_argument("--instances", type=int, default=30)
    parser.add_argument("--timers", type=int, default=300)
    args = parser.parse_args(argv)
    url = fresh_database("postgres", "profile")
    seed(url, ("case_transfer", "bench_timer"))
    os.environ["DATABASE_URL"] = url
    from web import create_app
    from web.db import db

    app = create_app({"TESTING": True})
    client = app.test_client(use_cookies=False)
    token = tokens(url, ["samr_handler"])["samr_handler"]
    api_instances(client, token, 3)
    rows = [count_work(client, token, db.state(app).engine, 20)]
    profiler = Profiler(interval=0.0005)
    with profiler:
        api_instances(client, token, args.instances)
    write("api", profiler)

    from engine.timers import fire_due_timers

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


def count_work(client, token: str, sql, count: int) -> tuple:
    """SQL statements and CPU time of the app per full instance (11 requests): the statement
    count does not depend on the machine's load, so it shows a fix's effect exactly."""
    statements = [0]

    def counted(*_args) -> None:
        statements[0] += 1

    event.listen(sql, "before_cursor_execute", counted)
    cpu = time.process_time()
    api_instances(client, token, count)
    cpu = (time.process_time() - cpu) * 1000 / count
    event.remove(sql, "before_cursor_execute", counted)
    return ("per full instance (11 requests): SQL statements, app CPU",
            f"{statements[0] / count:.0f} statements, {cpu:.0f} ms", "", None)


if __name__ == "__main__":
    main()
