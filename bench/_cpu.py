"""CPU seconds per process group while a benchmark's load runs: the services, the load
generator, PostgreSQL's backends (split by the pool they serve), Kafka and Temporal.

On a machine whose cores are shared, wall-clock throughput moves with everyone else's work;
the CPU time each part of the run takes per request does not move much, and it shows what
competes with the service under test for the cores (``bench.intake_acceptance``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg
import psutil

Classify = Callable[[psutil.Process], str | None]
LOAD_GENERATOR = "load generator (this process)"


def _seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


class CpuWatch:
    """Snapshots of CPU seconds per group; :meth:`since` gives the difference per group.

    ``classify`` names the group of each of this process's descendants (None: not counted);
    PostgreSQL's processes are found through the server (its postmaster's children) and named
    ``postgres <application_name>`` for the backends of ``dsn``'s database, ``postgres
    (server)`` for its own processes (WAL writer, checkpointer, …)."""

    def __init__(self, dsn: str, classify: Classify) -> None:
        self._dsn = dsn
        self._classify = classify

    async def _postgres(self) -> dict[int, str]:
        conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "bench"})
        try:
            me = await conn.fetchval("SELECT pg_backend_pid()")
            rows = await conn.fetch(
                "SELECT pid, application_name, backend_type FROM pg_stat_activity "
                "WHERE (datname = current_database() OR datname IS NULL) "
                "AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        names = {
            r["pid"]: f"postgres {r['application_name'] or '(no name)'}"
            if r["backend_type"] == "client backend"
            else "postgres (server)"
            for r in rows
        }
        try:
            postmaster = psutil.Process(me).parent()
        except psutil.Error:
            return names
        # Backends of other databases (a test's, another benchmark's) are not counted; the
        # server's own processes (WAL writer, checkpointer, …) are.
        return {
            child.pid: names[child.pid]
            for child in (postmaster.children() if postmaster else [])
            if child.pid in names
        }

    def snapshot(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        me = psutil.Process()
        totals[LOAD_GENERATOR] = _seconds(me)
        for child in me.children(recursive=True):
            try:
                group = self._classify(child)
                if group is not None:
                    totals[group] = totals.get(group, 0.0) + _seconds(child)
            except psutil.Error:
                continue
        for pid, group in asyncio.run(self._postgres()).items():
            try:
                totals[group] = totals.get(group, 0.0) + _seconds(psutil.Process(pid))
            except psutil.Error:
                continue
        return totals

    def settle(self, quiet: float = 0.15, window: float = 1.0, limit: float = 60.0) -> float:
        """Wait until the run's processes (all groups but the load generator) use less than
        ``quiet`` of a core over a ``window``, twice in a row: a service just started has
        consumers joining their groups and Kafka creating their offsets for a few seconds,
        work that would land on whichever load ran first. Returns the seconds waited."""
        began = time.monotonic()
        calm = 0
        while calm < 2 and time.monotonic() - began < limit:
            before = self.snapshot()
            time.sleep(window)
            used = sum(
                s for g, s in self.since(before, self.snapshot()).items() if g != LOAD_GENERATOR
            )
            calm = calm + 1 if used < quiet * window else 0
        return round(time.monotonic() - began, 1)

    @staticmethod
    def since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """CPU seconds per group between two snapshots (groups present at the end)."""
        return {
            group: round(seconds - before.get(group, 0.0), 3)
            for group, seconds in sorted(after.items(), key=lambda kv: -kv[1])
            if seconds - before.get(group, 0.0) > 0.0005
        }
