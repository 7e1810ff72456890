"""Benchmark (not a test): import of a generated district extract, rows/s, as a ratio to a
plain ``COPY`` of the same file into an unindexed table in the same run; then the re-import of
the same file (change detection: a no-op), as a ratio to the same COPY.

    .venv/bin/python -m bench.registry_import --individuals 1000000 [--work DIR] [--dsn DSN]
    .venv/bin/python -m bench.registry_import --small      # 100k individuals: under 3 minutes
    .venv/bin/python -m bench.registry_import --individuals 1000000 --copies 10  # 10M rows

``--copies N`` writes N copies of the generated extract into one file, each with its own
household references, KK numbers and NIKs (a province from one district's households), so a
10M-row file takes a minute to write instead of the generator's hour.

Memory: the importer streams the file (1 MiB chunks), so this process's peak RSS does not grow
with the file; the PostgreSQL backend doing the import is sampled twice a second (psutil) for
its peak RSS. Prints the figures and writes ``bench/results/registry_import_<size>.json``.
Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench._registry import create_database, extract, postgres, replicate, scale, write_result
from services.registry.extract import COLUMNS
from services.registry.importer import import_extract

DATABASE = "registry_bench"
SMALL_INDIVIDUALS = 100_000
"""``--small``: the size ``make bench`` uses (generation ~30 s once, then under a minute)."""


async def plain_copy(dsn: str, path: Path) -> tuple[float, int]:
    """COPY the file as it is into an unindexed table of text columns: the floor."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE IF EXISTS public.plain_copy")
        columns = ", ".join(f"{c} text" for c in COLUMNS)
        await conn.execute(f"CREATE TABLE public.plain_copy ({columns})")
        started = time.perf_counter()
        await conn.copy_to_table(
            "plain_copy", schema_name="public", source=path, format="csv", header=True
        )
        elapsed = time.perf_counter() - started
        rows = await conn.fetchval("SELECT count(*) FROM public.plain_copy")
        await conn.execute("DROP TABLE public.plain_copy")
        return elapsed, rows
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


async def registry_import(dsn: str, path: Path) -> tuple[float, dict[str, Any]]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
    marks: list[tuple[str, float]] = []

    def phase(name: str) -> None:
        marks.append((name, time.perf_counter()))

    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        with _PeakRss(backend) as server_rss, path.open("rb") as f:
            started = time.perf_counter()
            report = await import_extract(
                conn, f, file_name=path.name, started_by="bench", on_phase=phase
            )
            elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    ends = [t for _, t in marks[1:]] + [started + elapsed]
    phases = {name: round(end - t, 2) for (name, t), end in zip(marks, ends, strict=True)}
    return elapsed, {
        "phase_seconds": phases,
        "rows_read": report.rows_read,
        "rows_rejected": report.rows_rejected,
        "households_changed": report.households_changed,
        "households_skipped": report.households_skipped,
        "individuals_changed": report.individuals_changed,
        "participation_added": report.participation_added,
        "server_backend_peak_rss_mib": round(server_rss.peak / 2**20, 1),
        # ru_maxrss is KiB on Linux: the benchmark process, which streams the file.
        "client_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


async def run(server_dsn: str, path: Path) -> dict[str, Any]:
    dsn = await create_database(server_dsn, DATABASE)
    copy_seconds, copy_rows = await plain_copy(dsn, path)
    print(f"plain COPY: {copy_rows} rows in {copy_seconds:.1f} s", flush=True)
    import_seconds, report = await registry_import(dsn, path)
    print(f"registry import: {report} in {import_seconds:.1f} s", flush=True)
    reimport_seconds, again = await registry_import(dsn, path)
    print(f"re-import of the same file: {again} in {reimport_seconds:.1f} s", flush=True)
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
    args = parser.parse_args(argv)
    work = args.work.resolve()
    individuals = SMALL_INDIVIDUALS if args.small else args.individuals
    path = args.file or extract(work, individuals)
    if args.copies > 1:
        path = replicate(path, args.copies)
    with postgres(work / "pg", args.dsn) as server_dsn:
        figures = asyncio.run(run(server_dsn, path))
    figures["file_bytes"] = path.stat().st_size
    out = write_result(f"registry_import_{scale(figures['rows'])}", figures)
    print(
        f"import: {figures['import_rows_per_second']} rows/s; plain COPY: "
        f"{figures['plain_copy_rows_per_second']} rows/s; import takes "
        f"{figures['import_time_ratio_to_plain_copy']}× the plain COPY, the unchanged "
        f"re-import {figures['reimport_time_ratio_to_plain_copy']}× → {out}"
    )
    return figures


if __name__ == "__main__":
    main()
