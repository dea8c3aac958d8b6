"""Benchmark 5: resident memory of one gunicorn web worker over N requests (default 10,000).

gunicorn with one worker on PostgreSQL; a client cycles through reading requests (inbox, case
list, one case, its timeline, the overdue list) and, every 40 reads, drives one full instance
of the three-task process (11 writing and reading requests). RSS of the worker is read from
/proc after a warm-up of 1,000 requests and at the end.
"""
from __future__ import annotations

import argparse
import itertools
import time

from .api import drive_instance
from .common import fresh_database, process_tree, progress, report, rss_mb, seed, tokens
from .servers import call, server

WARM_UP = 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench memory", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args(argv)
    url = fresh_database("postgres", "memory")
    seed(url, ("case_transfer",))
    keys = tokens(url, ["samr_handler", "office_supervisor"])
    handler, supervisor = keys["samr_handler"], keys["office_supervisor"]
    samples = []
    with server(url, workers=1) as (base, pid):
        worker = process_tree(pid)[-1]
        drive_instance(base, handler, {})
        case_id = call(base, "GET", "/cases?per_page=1", handler)[1]["items"][0]["id"]
        reads = itertools.cycle([
            (handler, "/tasks?view=all"), (handler, "/cases"), (handler, f"/cases/{case_id}"),
            (handler, f"/cases/{case_id}/timeline"), (supervisor, "/supervision/overdue"),
        ])
        done, started = 0, time.monotonic()
        for step in itertools.count():
            if done >= args.requests:
                break
            if step % 40 == 0:
                drive_instance(base, handler, {})
                done += 11
            else:
                token, path = next(reads)
                status, body = call(base, "GET", path, token)
                assert status == 200, body
                done += 1
            if done >= WARM_UP and not samples:
                samples.append((done, rss_mb(worker)))
            progress("requests", min(done, args.requests), args.requests, started)
        samples.append((done, rss_mb(worker)))
    (warm_n, warm), (end_n, end) = samples[0], samples[-1]
    growth = end - warm
    rows = [
        (f"RSS after warm-up ({warm_n:,} requests)", f"{warm:.1f} MB", "", None),
        (f"RSS after {end_n:,} requests", f"{end:.1f} MB", "≤ 150 MB", end <= 150),
        ("growth after warm-up", f"{growth:+.1f} MB", "none (≤ 5 MB)", growth <= 5),
    ]
    report("5. memory — one gunicorn worker on PostgreSQL", url, rows)


if __name__ == "__main__":
    main()
