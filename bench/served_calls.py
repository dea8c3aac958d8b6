"""Python calls per request as production serves it: gunicorn (one sync worker) on PostgreSQL,
driven over HTTP through the same full instances as `python -m bench profile`.

`profile` counts in process, through the Flask test client. This counts inside the gunicorn
worker: all its calls from one request's end to the next (reading and parsing the request,
building the WSGI environ, the app, writing the answer, the wait for the next connection), and
those inside the app's WSGI call alone. It tells how far the in-process figures stand from what
the server process really does for a request. Used as a gunicorn config file:
`gunicorn -c python:bench.served_calls`, the counts written at the worker's exit to the file
named by LIANDONG_BENCH_CALLS.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict

from .common import ROOT
from .servers import call, free_port

_counts = [0, 0]  # every call in the worker, and those inside the app's WSGI call
_serving = [False]
_marks: list[tuple[str, str, int, int]] = []


def _count(frame, event, arg) -> None:
    if event == "call" or event == "c_call":
        _counts[0] += 1
        if _serving[0]:
            _counts[1] += 1


def marking(app, serving: list[bool]):
    """The WSGI app `app`, with `serving[0]` true while it runs (its calls told from the rest)."""

    def marked(environ, start_response):
        serving[0] = True
        try:
            return app(environ, start_response)
        finally:
            serving[0] = False

    return marked


def post_worker_init(worker) -> None:
    """gunicorn hook: count from now on, marking the app's own calls."""
    worker.wsgi = marking(worker.wsgi, _serving)
    sys.setprofile(_count)


def post_request(worker, req, environ, resp) -> None:
    """gunicorn hook: the counts at each request's end."""
    _marks.append((req.method, req.path, _counts[0], _counts[1]))


def worker_exit(server, worker) -> None:
    sys.setprofile(None)
    with open(os.environ["LIANDONG_BENCH_CALLS"], "w", encoding="utf-8") as out:
        json.dump(_marks, out)


class _Answer:
    def __init__(self, status: int, body) -> None:
        self.status_code, self._body = status, body

    def get_json(self):
        return self._body


class _HttpClient:
    """What bench.profile.api_instances drives, over HTTP."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def post(self, path: str, json=None, headers=None) -> _Answer:
        return _Answer(*call(self.base, "POST", path.removeprefix("/api/v1"), self.token, json))

    def get(self, path: str, headers=None) -> _Answer:
        return _Answer(*call(self.base, "GET", path.removeprefix("/api/v1"), self.token))


KINDS = {"POST /api/v1/cases": "create", "GET /api/v1/tasks": "inbox", "POST /api/v1/tasks/N/claim": "claim",
         "POST /api/v1/tasks/N/complete": "complete", "GET /api/v1/cases/N": "case"}


def served_calls(url: str, token: str, count: int, api_instances, folder: str) -> dict[str, tuple[float, float]]:
    """Per request kind, (all calls in the worker, calls inside the app) per request, over
    `count` full instances after five not counted; the production app (web.wsgi:app)."""
    out = os.path.join(folder, "served_calls.json")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret",
           "LIANDONG_AUDIT_KEY": "bench-audit-key-" * 2, "LIANDONG_BENCH_CALLS": out,
           "LIANDONG_INSTANCE": os.path.join(folder, "instance")}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                               "-c", "python:bench.served_calls", "web.wsgi:app"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        client = _HttpClient(base, token)
        api_instances(client, token, 5)
        api_instances(client, token, count)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with open(out, encoding="utf-8") as marks_file:
        marks = json.load(marks_file)[-(11 * count + 1):]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for before, after in itertools.pairwise(marks):
        kind = KINDS[f"{after[0]} {re.sub(r'/[0-9]+', '/N', after[1])}"]
        totals[kind][0] += after[2] - before[2]
        totals[kind][1] += after[3] - before[3]
        totals[kind][2] += 1
    return {kind: (every / n, in_app / n) for kind, (every, in_app, n) in totals.items()}
