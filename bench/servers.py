"""Real servers for the HTTP benchmarks: gunicorn on PostgreSQL (production) or `liandong serve`
on SQLite (the dev set-up), and a small JSON client over urllib."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .common import ROOT

CLI = "from web.cli import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(url: str, workers: int = 2, app: str = "web.wsgi:app"):
    """Serve the database at `url`; yields (base URL, pid of the server's top process).
    PostgreSQL: gunicorn with `workers` processes serving `app` (the production app, or the
    benchmark's own build of it: bench/real_app.py); SQLite: `liandong serve` (one process with
    its worker thread)."""
    port = free_port()
    home = tempfile.mkdtemp(prefix="liandong-bench-home-")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "HOME": home,
           "LIANDONG_AUDIT_KEY": "bench-audit-key-" * 2,
           "LIANDONG_INSTANCE": os.path.join(home, "instance"), "PYTHONPATH": str(ROOT)}
    if url.startswith("sqlite"):
        argv = [sys.executable, "-c", CLI, "serve", "--port", str(port)]
    else:
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                f"127.0.0.1:{port}", app]
    log_path = os.path.join(home, "server.log")
    with open(log_path, "w") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=5).close()
                break
            except OSError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(Path(log_path).read_text()) from error
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def call(base: str, method: str, path: str, token: str, body=None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def timed_call(timings: dict, kind: str, *args, expect: int = 200, **kwargs) -> dict:
    start = time.perf_counter()
    status, body = call(*args, **kwargs)
    timings.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
    if status != expect:
        raise RuntimeError(f"{kind}: HTTP {status} {body}")
    return body
