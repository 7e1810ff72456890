"""Benchmark (not a test): import of a generated district extract, rows/s, as a ratio to a
plain ``COPY`` of the same file into an unindexed table in the same run; then the re-import of
the same file (a no-op: the last import's result repeated, docs/registry.md), as a ratio to the
same COPY.

    .venv/bin/python -m bench.registry_import --individuals 1000000 [--work DIR] [--dsn DSN]
    .venv/bin/python -m bench.registry_import --small      # 100k individuals: under 3 minutes
    .venv/bin/python -m bench.registry_import --individuals 1000000 --copies 10  # 10M rows

``--copies N`` writes N copies of the generated extract into one file, each with its own
household references, KK numbers and NIKs (a province from one district's households), so a
10M-row file takes a minute to write instead of the generator's hour.

Memory: the importer streams the file (1 MiB chunks), so this process's peak RSS does not grow
with the file; the PostgreSQL backend doing the import is sampled twice a second (psutil) for
its peak RSS, and its CPU seconds per phase (on a shared machine the CPU time moves far less
than the wall time). ``--explain FILE`` writes the plans of the import's statements that take
20 ms or more (``auto_explain``: analyze, buffers, triggers). Prints the figures and writes
``bench/results/registry_import_<size>.json``. Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil

from bench._registry import create_database, extract, postgres, replicate, scale, write_result
from services.registry.extract import COLUMNS
from services.registry.importer import import_extract

DATABASE = "registry_bench"
SMALL_INDIVIDUALS = 100_000
"""``--small``: the size ``make bench`` uses (generation ~30 s once, then under a minute)."""


def _cpu(process: psutil.Process) -> float:
    """CPU seconds (user and system) a process has used: the PostgreSQL backend's work, which
    the other engineers' load on the shared cores stretches far less than the wall time."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _server_cpu(backend: psutil.Process) -> float:
    """CPU seconds of the whole PostgreSQL server the backend belongs to: the postmaster, its
    live processes and those it has reaped. Counts what the backend's own time leaves out: the
    parallel workers of an index build (and the WAL writer, checkpointer and background writer,
    for the COPY as for the import). The benchmark's server serves nobody else."""
    postmaster = backend.parent()
    if postmaster is None:
        return _cpu(backend)
    times = postmaster.cpu_times()
    total = float(times.user + times.system + times.children_user + times.children_system)
    for child in postmaster.children():
        # One that exited meanwhile is counted by children_* next time.
        with contextlib.suppress(psutil.Error):
            total += _cpu(child)
    return total


async def plain_copy(dsn: str, path: Path) -> tuple[float, int, float, float]:
    """COPY the file as it is into an unindexed table of text columns: the floor. Returns the
    seconds, the rows, the backend's and the whole server's CPU seconds."""
    conn = await asyncpg.connect(dsn)
    try:
        backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
        await conn.execute("DROP TABLE IF EXISTS public.plain_copy")
        columns = ", ".join(f"{c} text" for c in COLUMNS)
        await conn.execute(f"CREATE TABLE public.plain_copy ({columns})")
        cpu, server = _cpu(backend), _server_cpu(backend)
        started = time.perf_counter()
        await conn.copy_to_table(
            "plain_copy", schema_name="public", source=path, format="csv", header=True
        )
        elapsed = time.perf_counter() - started
        cpu, server = _cpu(backend) - cpu, _server_cpu(backend) - server
        rows = await conn.fetchval("SELECT count(*) FROM public.plain_copy")
        await conn.execute("DROP TABLE public.plain_copy")
        return elapsed, rows, cpu, server
    finally:
        await conn.close()


class _PeakRss:
    """Samples a process's resident memory (the PostgreSQL backend) until stopped."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(0.5)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def _explain(dsn: str, *, on: bool = True) -> None:
    """``auto_explain`` for the next sessions in the bench database (``on=False``: no more):
    every statement of the import that takes 20 ms or more, with its plan, row counts, buffers
    and the time in each trigger, as notices. Loading it takes the server's superuser (the
    local server's ``postgres``, trust authentication)."""
    parts = urlsplit(dsn)
    admin_dsn = urlunsplit(parts._replace(netloc=f"postgres@{parts.netloc.rpartition('@')[2]}"))
    admin = await asyncpg.connect(admin_dsn)
    try:
        if not on:
            # The lookup benchmark reuses this database: its sessions must not explain.
            await admin.execute(f'ALTER DATABASE "{DATABASE}" RESET ALL')
            return
        for setting, value in (
            ("session_preload_libraries", "auto_explain"),
            ("auto_explain.log_min_duration", "20"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_buffers", "on"),
            ("auto_explain.log_triggers", "on"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
        ):
            await admin.execute(f"ALTER DATABASE \"{DATABASE}\" SET {setting} = '{value}'")
    finally:
        await admin.close()


async def registry_import(
    dsn: str, path: Path, plans: list[str] | None = None
) -> tuple[float, dict[str, Any]]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
    marks: list[tuple[str, float, float]] = []
    if plans is not None:
        conn.add_log_listener(lambda _conn, message: plans.append(message.message))

    def phase(name: str) -> None:
        marks.append((name, time.perf_counter(), _cpu(process)))

    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        process = psutil.Process(backend)
        cpu, server = _cpu(process), _server_cpu(process)
        with _PeakRss(backend) as server_rss, path.open("rb") as f:
            started = time.perf_counter()
            report = await import_extract(
                conn, f, file_name=path.name, started_by="bench", on_phase=phase
            )
            elapsed = time.perf_counter() - started
            cpu, server = _cpu(process) - cpu, _server_cpu(process) - server
            marks.append(("", started + elapsed, _cpu(process)))
    finally:
        await conn.close()
    spans = list(pairwise(marks))
    return elapsed, {
        "phase_seconds": {name: round(end - t, 2) for (name, t, _), (_, end, _) in spans},
        # The backend's CPU seconds per phase: the profile to compare across runs on a loaded
        # machine.
        "phase_backend_cpu_seconds": {
            name: round(end - c, 2) for (name, _, c), (_, _, end) in spans
        },
        "backend_cpu_seconds": round(cpu, 2),
        # With the parallel workers of the index builds and the server's own processes.
        "server_cpu_seconds": round(server, 2),
        "rows_read": report.rows_read,
        "rows_rejected": report.rows_rejected,
        "households_changed": report.households_changed,
        "households_skipped": report.households_skipped,
        "individuals_changed": report.individuals_changed,
        "participation_added": report.participation_added,
        # An unchanged file whose last import can be repeated: no COPY, no hashing.
        "repeated": report.repeat_of is not None,
        "server_backend_peak_rss_mib": round(server_rss.peak / 2**20, 1),
        # ru_maxrss is KiB on Linux: the benchmark process, which streams the file.
        "client_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


async def run(server_dsn: str, path: Path, explain: Path | None = None) -> dict[str, Any]:
    dsn = await create_database(server_dsn, DATABASE)
    copy_seconds, copy_rows, copy_cpu, copy_server_cpu = await plain_copy(dsn, path)
    print(f"plain COPY: {copy_rows} rows in {copy_seconds:.1f} s", flush=True)
    if explain:
        await _explain(dsn)
    first: list[str] | None = [] if explain else None
    again_plans: list[str] | None = [] if explain else None
    import_seconds, report = await registry_import(dsn, path, first)
    print(f"registry import: {report} in {import_seconds:.1f} s", flush=True)
    reimport_seconds, again = await registry_import(dsn, path, again_plans)
    print(f"re-import of the same file: {again} in {reimport_seconds:.1f} s", flush=True)
    if explain and first is not None and again_plans is not None:
        text = (
            "# first import\n\n"
            + "\n\n".join(first)
            + "\n\n# re-import of the same file\n\n"
            + "\n\n".join(again_plans)
            + "\n"
        )
        await _explain(dsn, on=False)
        await asyncio.to_thread(explain.write_text, text)
        print(f"plans of the statements taking 20 ms or more → {explain}", flush=True)
    rows = report["rows_read"]
    return {
        "file": path.name,
        "rows": rows,
        "plain_copy_seconds": round(copy_seconds, 2),
        "plain_copy_rows_per_second": round(copy_rows / copy_seconds),
        "import_seconds": round(import_seconds, 2),
        "import_rows_per_second": round(rows / import_seconds),
        "import_time_ratio_to_plain_copy": round(import_seconds / copy_seconds, 2),
        "reimport_seconds": round(reimport_seconds, 2),
        "reimport_time_ratio_to_plain_copy": round(reimport_seconds / copy_seconds, 2),
        "plain_copy_backend_cpu_seconds": round(copy_cpu, 2),
        "import_backend_cpu_ratio_to_plain_copy": round(
            report["backend_cpu_seconds"] / copy_cpu, 2
        ),
        "reimport_backend_cpu_ratio_to_plain_copy": round(
            again["backend_cpu_seconds"] / copy_cpu, 2
        ),
        "plain_copy_server_cpu_seconds": round(copy_server_cpu, 2),
        "import_server_cpu_ratio_to_plain_copy": round(
            report["server_cpu_seconds"] / copy_server_cpu, 2
        ),
        "reimport_changes": again,
        "import_report": report,
        "database": DATABASE,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--individuals", type=int, default=1_000_000)
    parser.add_argument("--small", action="store_true", help=f"{SMALL_INDIVIDUALS} individuals")
    parser.add_argument("--copies", type=int, default=1, help="copies of the extract in one file")
    parser.add_argument("--work", type=Path, default=Path(".slrt/bench/registry"))
    parser.add_argument("--file", type=Path, help="an extract to use instead of generating one")
    parser.add_argument("--dsn", help="an existing server (database slrt); default: start one")
    parser.add_argument(
        "--explain",
        type=Path,
        help="write EXPLAIN (ANALYZE, BUFFERS) of the import's slow statements here "
        "(auto_explain: the timings it gives are inflated, not for the ratios)",
    )
    args = parser.parse_args(argv)
    work = args.work.resolve()
    individuals = SMALL_INDIVIDUALS if args.small else args.individuals
    path = args.file or extract(work, individuals)
    if args.copies > 1:
        path = replicate(path, args.copies)
    with postgres(work / "pg", args.dsn) as server_dsn:
        figures = asyncio.run(run(server_dsn, path, args.explain))
    figures["file_bytes"] = path.stat().st_size
    out = write_result(f"registry_import_{scale(figures['rows'])}", figures)
    print(
        f"import: {figures['import_rows_per_second']} rows/s; plain COPY: "
        f"{figures['plain_copy_rows_per_second']} rows/s; import takes "
        f"{figures['import_time_ratio_to_plain_copy']}× the plain COPY, the unchanged "
        f"re-import {figures['reimport_time_ratio_to_plain_copy']}× (the backend's CPU time: "
        f"{figures['import_backend_cpu_ratio_to_plain_copy']}× and "
        f"{figures['reimport_backend_cpu_ratio_to_plain_copy']}×; the whole server's for the "
        f"import: {figures['import_server_cpu_ratio_to_plain_copy']}×) → {out}"
    )
    return figures


if __name__ == "__main__":
    main()
