"""`python -m bench [NAME [options]]`: run one benchmark, or all of them at their default sizes.

NAME is one of api, growth, inbox, timers, memory, profile, real_case; `python -m bench NAME --help` lists
its options (sizes). Each appends a dated section to bench/RESULTS.md.
"""
from __future__ import annotations

import importlib
import sys

NAMES = ("api", "growth", "inbox", "timers", "memory", "profile", "real_case")


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    if argv and argv[0] not in NAMES:
        raise SystemExit(f"unknown benchmark {argv[0]!r}; choose from {', '.join(NAMES)}")
    for name in ([argv[0]] if argv else NAMES):
        print(f"== bench {name}", flush=True)
        importlib.import_module(f"bench.{name}").main(argv[1:] if argv else [])


if __name__ == "__main__":
    main(sys.argv[1:])
