"""``make bench``: every benchmark at a size for a small shared machine, then one table.

    .venv/bin/python -m bench [--only NAME,...] [--skip NAME,...]

Runs each benchmark as its own process with the sizes below (about ten minutes in all on two
shared cores), then prints one table of ratios (measure, now, goal, met?) from their result
files and writes ``bench/results/summary.json`` (``bench/summary.py``). A figure from a
benchmark that failed in this run shows as "—" rather than an older result. The long ones —
``bench.soak`` and ``bench.routing_memory`` — are not part of it: run them by name.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import summary

REGISTRY_WORK = (Path(__file__).parent.parent / ".slrt" / "bench" / "registry").resolve()

PLAN: dict[str, list[str]] = {
    # benchmark: its command-line flags at make-bench size
    "intake_acceptance": ["--requests", "1000"],
    "routing_e2e": ["--small"],
    "registry_import": ["--small", "--work", str(REGISTRY_WORK)],
    "registry_lookup": ["--requests", "1000", "--work", str(REGISTRY_WORK)],
    "dashboard_national": ["--complaints", "1000000", "--runs", "30"],
}
"""In order: registry_lookup reads the database registry_import leaves behind."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated benchmarks to run")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks not to run")
    args = parser.parse_args(argv)
    chosen = [n for n in (args.only.split(",") if args.only else PLAN) if n]
    skipped = {n for n in args.skip.split(",") if n}
    unknown = sorted((set(chosen) | skipped) - set(PLAN))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(PLAN)}")
    since = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    runs: dict[str, dict[str, object]] = {}
    for name in PLAN:
        if name not in chosen or name in skipped:
            continue
        command = [sys.executable, "-m", f"bench.{name}", *PLAN[name]]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        begun = time.perf_counter()
        code = subprocess.call(command)
        runs[name] = {
            "args": PLAN[name],
            "seconds": round(time.perf_counter() - begun, 1),
            "returncode": code,
        }
        print(f"=== {name}: exit {code} after {runs[name]['seconds']} s", flush=True)
    documents = {
        name: summary.latest(pattern)
        for name, (pattern, _) in summary.ADAPTERS.items()
        if name in runs
    }
    rows, sources = summary.build(documents, since=since)
    rows = [r for r in rows if r.benchmark in runs]
    total = round(time.perf_counter() - started)
    out = summary.write(
        rows, {k: v for k, v in sources.items() if k in runs}, runs, total_seconds=total
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{summary.table(rows)}\n")
    print(
        f"{sum(1 for r in rows if r.met)} of {len(rows)} goals met; {total} s in all; "
        f"load average {load}; written {out}"
    )
    return 1 if any(r["returncode"] for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
