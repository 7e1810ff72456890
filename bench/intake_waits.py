"""Diagnostic (not a test, not part of ``make bench``): where a submission WAITS under the
intake benchmark's load. Starts the same stack, intake and bare endpoint as
``bench.intake_acceptance``, then, alternating the two servers, runs ``--clients`` clients while
a sampler (a thread of its own, its own connection) reads ``pg_stat_activity`` every few
milliseconds: per server, how many of its backends are running, waiting on a lock (which), on
the WAL flush, or idle (between statements: the pool holds them, or the service is busy).
Also the commits and WAL flushes per accepted request (``pg_stat_database``, ``pg_stat_wal``).

    .venv/bin/python -m bench.intake_waits [--requests 2000] [--clients 16] [--rounds 2]
        [--intake-env NAME=VALUE ...]

Prints one table per run; writes nothing. Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench._stack import real_stack, service_env
from bench.intake_acceptance import _wait, load
from slrt_dev.sandbox.processes import dev_issuer, service_process
from slrt_dev.stack.process import free_port

SAMPLE = """
SELECT application_name, state, coalesce(wait_event_type, '-') AS wtype,
       coalesce(wait_event, '-') AS wevent, backend_type
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
"""

COUNTERS = """
SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
       (SELECT sum(fsyncs) FROM pg_stat_io WHERE object = 'wal') AS wal_fsyncs,
       (SELECT sum(writes) FROM pg_stat_io WHERE object = 'wal') AS wal_writes,
       (SELECT wal_records FROM pg_stat_wal) AS wal_records,
       (SELECT wal_bytes FROM pg_stat_wal) AS wal_bytes,
       (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'intake.ticket_counters'::regclass)
           AS counter_updates,
       (SELECT n_tup_hot_upd FROM pg_stat_user_tables
           WHERE relid = 'intake.ticket_counters'::regclass) AS counter_hot_updates,
       pg_relation_size('intake.ticket_counters') / 8192 AS counter_pages,
       (SELECT sum(pg_relation_size(indexrelid)) / 8192 FROM pg_index
           WHERE indrelid = 'intake.ticket_counters'::regclass) AS counter_index_pages
"""


class Sampler:
    """``pg_stat_activity`` every ``every`` seconds from a thread with its own event loop."""

    def __init__(self, dsn: str, every: float = 0.003) -> None:
        self._dsn = dsn
        self._every = every
        self._stop = threading.Event()
        self.counts: Counter[tuple[str, str]] = Counter()
        self.samples = 0
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(10)

    async def _run(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            while not self._stop.is_set():
                for r in await conn.fetch(SAMPLE):
                    app = r["application_name"] or "(bare)"
                    if r["state"] == "active":
                        what = f"active {r['wtype']}:{r['wevent']}"
                    else:
                        what = f"{r['state']}"
                    self.counts[(app, what)] += 1
                self.samples += 1
                await asyncio.sleep(self._every)
        finally:
            await conn.close()


async def _counters(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(COUNTERS)
        assert row is not None
        return {k: int(v) for k, v in dict(row).items()}
    finally:
        await conn.close()


def _schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) over the process's threads
    (``/proc/PID/task/TID/schedstat``)."""
    ran = waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            on, wait, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        ran += int(on)
        waited += int(wait)
    return ran / 1e9, waited / 1e9


def _groups(dsn: str) -> dict[str, list[int]]:
    """The processes of the run by group: the servers, this load generator, PostgreSQL's
    backends per application name, Kafka."""
    groups: dict[str, list[int]] = {"load generator": [os.getpid()]}
    for child in psutil.Process().children(recursive=True):
        line = " ".join(child.cmdline())
        for needle, group in (
            ("services.intake", "intake"),
            ("bench._bare_intake", "bare"),
            ("kafka", "kafka"),
        ):
            if needle in line:
                groups.setdefault(group, []).append(child.pid)

    async def backends() -> list[Any]:
        conn = await asyncpg.connect(dsn)
        try:
            return list(
                await conn.fetch(
                    "SELECT pid, application_name FROM pg_stat_activity WHERE "
                    "datname = current_database() AND backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid()"
                )
            )
        finally:
            await conn.close()

    for r in asyncio.run(backends()):
        groups.setdefault(f"pg {r['application_name'] or '(bare)'}", []).append(r["pid"])
    return groups


def _sched(groups: dict[str, list[int]]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for pid in groups.get("intake", []):
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                name = (task / "comm").read_text().strip()
                on, wait, _ = (task / "schedstat").read_text().split()
            except (OSError, ValueError):
                continue
            main = task.name == str(pid)
            key = f"intake {'main' if main else name}"
            ran0, waited0 = out.get(key, (0.0, 0.0))
            out[key] = (ran0 + int(on) / 1e9, waited0 + int(wait) / 1e9)
    for group, pids in groups.items():
        ran = waited = 0.0
        for pid in pids:
            try:
                r, w = _schedstat(pid)
            except OSError:
                continue
            ran += r
            waited += w
        out[group] = (ran, waited)
    return out


def run(
    dsn: str, url: str, headers: dict[str, str], clients: int, requests: int, app: str
) -> dict[str, Any]:
    groups = _groups(dsn)
    before = asyncio.run(_counters(dsn))
    sched_before = _sched(groups)
    began = time.perf_counter()
    with Sampler(dsn) as sampler:
        result = asyncio.run(load(url, headers, clients, requests))
    wall = time.perf_counter() - began
    sched_after = _sched(groups)
    after = asyncio.run(_counters(dsn))
    n = max(1, result["accepted"])
    result["counters_after"] = after
    result["sched"] = {
        g: (
            round(1000 * (sched_after[g][0] - sched_before[g][0]) / n, 3),
            round(1000 * (sched_after[g][1] - sched_before[g][1]) / n, 3),
            round((sched_after[g][0] - sched_before[g][0]) / wall, 2),
        )
        for g in sched_after
        if g in sched_before
    }
    mine = {what: c / sampler.samples for (a, what), c in sampler.counts.items() if a == app}
    return {
        **result,
        "per_request": {k: round((after[k] - before[k]) / n, 2) for k in before},
        "backends": dict(sorted(mine.items(), key=lambda kv: -kv[1])),
        "samples": sampler.samples,
    }


def show(name: str, r: dict[str, Any]) -> None:
    load1 = os.getloadavg()[0]
    print(
        f"{name}: {r['accepted_per_second']}/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms "
        f"(load {load1:.2f}); per request {r['per_request']}; {r['samples']} samples"
    )
    print(f"    counters after: {r['counters_after']}")
    print("    ms per request on a CPU / waiting for a CPU; cores used:")
    for group, (ran, waited, cores) in r["sched"].items():
        if ran > 0.005:
            print(f"    {group:>18}: {ran:6.3f} / {waited:6.3f} ms  {cores:.2f} cores")
    for what, mean in r["backends"].items():
        print(f"    {mean:6.2f} backends  {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_waits")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--intake-env", action="append", default=[])
    args = parser.parse_args(argv)
    extra = dict(e.split("=", 1) for e in args.intake_env)
    with real_stack() as (_, connections), tempfile.TemporaryDirectory() as logs:
        log_dir = Path(logs)
        token = dev_issuer(log_dir).token("bench-front-office", ["front_office"], "3204")
        headers = {"Authorization": f"Bearer {token}"}
        dsn = connections.postgres_dsn.get_secret_value()
        port = free_port()
        bare = subprocess.Popen([sys.executable, "-m", "bench._bare_intake", dsn, str(port)])
        try:
            with service_process("intake", service_env(connections, **extra), log_dir) as iurl:
                burl = f"http://127.0.0.1:{port}"
                _wait(burl)
                for url, auth in ((iurl, headers), (burl, {})):
                    asyncio.run(load(url, auth, args.clients, 200))
                time.sleep(3)
                for _ in range(args.rounds):
                    show(
                        "intake",
                        run(dsn, iurl, headers, args.clients, args.requests, "slrt-intake"),
                    )
                    show("bare", run(dsn, burl, {}, args.clients, args.requests, "(bare)"))
        finally:
            bare.terminate()
            bare.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
