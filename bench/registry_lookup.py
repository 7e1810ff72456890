"""Benchmark (not a test): NIK lookup latency over HTTP, p50/p99, as a ratio to a bare FastAPI
endpoint doing the same query and audit row over HTTP, in the same run against the same
database; the raw query over asyncpg is reported beside them.

    .venv/bin/python -m bench.registry_lookup [--requests 3000] [--individuals N] [--work DIR]
        [--dsn DSN]

The registry side is its real lookup route (token verification, authorisation, the one
person-and-programs statement, the audit row by group commit) served by uvicorn in its own
process; the baseline (``bench/_bare_lookup.py``) runs in its own process too. One client,
requests in turn, the two servers alternating in rounds of 50 so that neither always meets a
warmer cache. The database is the one the import benchmark filled (``registry_bench``); when it
does not exist, or ``--individuals`` asks for another size, a generated district of that size
(default 20,000) is imported first. Small run for ``make bench``:
``--individuals 20000 --requests 1000`` (about a minute). Writes
``bench/results/registry_lookup_<size>.json``. Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._registry import create_database, database_dsn, extract, postgres, scale, write_result
from services.registry.importer import import_extract
from services.registry.store.persons import PERSON_BY_NIK
from slrt.auth.principal import Role
from slrt_dev.issuer import DevIssuer
from slrt_dev.stack.process import free_port

ISSUER = "https://auth.slrt.bench/registry"
DATABASE = "registry_bench"
DEFAULT_INDIVIDUALS = 20_000
ROUND = 50


def serve(dsn: str, port: int) -> None:
    """The registry's lookup routes over Postgres only (no Kafka needed to read)."""
    import uvicorn

    from services.registry.api import persons
    from services.registry.settings import RegistrySettings
    from slrt.auth.tokens import AuthSettings
    from slrt.service import Dependency, build_app
    from slrt.settings import ConnectionSettings

    settings = RegistrySettings(connections=ConnectionSettings(postgres_dsn=dsn), port=port)

    app = build_app(
        "registry",
        settings,
        title="bench",
        description="bench",
        uses=(Dependency.POSTGRES,),
        routers=[persons.router],
        auth=AuthSettings(),
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


async def ensure_data(server_dsn: str, work: Path, individuals: int | None) -> str:
    """The benchmark database, imported first when it is missing or of another size."""
    dsn = database_dsn(server_dsn, DATABASE)
    admin = await asyncpg.connect(server_dsn)
    try:
        exists = await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", DATABASE)
    finally:
        await admin.close()
    if exists:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
        try:
            have = await conn.fetchval("SELECT count(*) FROM individuals")
        finally:
            await conn.close()
        # A generated district loses a few rejected rows on import: "the same size" is close.
        if individuals is None or abs(have - individuals) <= individuals * 0.05:
            return dsn
    size = individuals or DEFAULT_INDIVIDUALS
    path = extract(work, size)
    print(f"importing {size} individuals into {DATABASE} …", flush=True)
    await create_database(server_dsn, DATABASE)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
    try:
        with path.open("rb") as f:
            await import_extract(conn, f, file_name=path.name, started_by="bench")
    finally:
        await conn.close()
    return dsn


async def timed(client: httpx.AsyncClient, niks: list[str], into: list[float]) -> None:
    for nik in niks:
        started = time.perf_counter()
        response = await client.post("/v1/persons/lookup", json={"nik": nik})
        into.append(time.perf_counter() - started)
        response.raise_for_status()


async def measure(dsn: str, url: str, bare_url: str, token: str, requests: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
    try:
        individuals = await conn.fetchval("SELECT count(*) FROM individuals")
        percent = min(100.0, max(1.0, 100.0 * requests * 2 / max(individuals, 1)))
        niks = [
            r["nik"]
            for r in await conn.fetch(
                "SELECT nik FROM individuals TABLESAMPLE SYSTEM ($2::real) LIMIT $1",
                requests,
                percent,
            )
        ]
        query = await conn.prepare(PERSON_BY_NIK)
        for nik in niks[:200]:  # warm-up
            await query.fetchrow(nik)
        direct: list[float] = []
        for nik in niks:
            started = time.perf_counter()
            row = await query.fetchrow(nik)
            direct.append(time.perf_counter() - started)
            assert row is not None
    finally:
        await conn.close()

    headers = {"Authorization": f"Bearer {token}"}
    service: list[float] = []
    bare: list[float] = []
    async with (
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as registry,
        httpx.AsyncClient(base_url=bare_url, timeout=30) as baseline,
    ):
        await timed(registry, niks[:200], [])  # warm-up
        await timed(baseline, niks[:200], [])
        for n, start in enumerate(range(0, len(niks), ROUND)):
            chunk = niks[start : start + ROUND]
            if n % 2 == 0:
                await timed(registry, chunk, service)
                await timed(baseline, chunk, bare)
            else:
                await timed(baseline, chunk, bare)
                await timed(registry, chunk, service)
    over_http, over_bare, over_asyncpg = summary(service), summary(bare), summary(direct)
    return {
        "individuals": individuals,
        "requests": len(niks),
        "http": over_http,
        "bare_fastapi_http": over_bare,
        "direct_asyncpg": over_asyncpg,
        "p50_ratio": round(over_http["p50_ms"] / over_bare["p50_ms"], 2),
        "p99_ratio": round(over_http["p99_ms"] / over_bare["p99_ms"], 2),
        "p50_ratio_to_direct_asyncpg": round(over_http["p50_ms"] / over_asyncpg["p50_ms"], 1),
        "goal": "p50 <= 1.5x and p99 <= 2x the bare endpoint",
    }


@contextmanager
def server(args: list[str], env: dict[str, str], url: str) -> Iterator[None]:
    process = subprocess.Popen([sys.executable, "-m", *args], env=env)
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {process.returncode}")
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument(
        "--individuals",
        type=int,
        help=f"import a district of this size first unless the database has it "
        f"(default: the database as it is, else {DEFAULT_INDIVIDUALS})",
    )
    parser.add_argument("--work", type=Path, default=Path(".slrt/bench/registry"))
    parser.add_argument("--dsn", help="an existing server (database slrt); default: start one")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work: Path = args.work.resolve()
    if args.serve:
        serve(args.dsn, args.serve)
        return 0
    issuer = DevIssuer(work / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    token = issuer.token("bench-front-office", [Role.FRONT_OFFICE], "3204")
    with postgres(work / "pg", args.dsn) as server_dsn:
        dsn = asyncio.run(ensure_data(server_dsn, work, args.individuals))
        port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "SLRT_AUTH_ISSUER": ISSUER,
            "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
            "SLRT_LOG_LEVEL": "WARNING",
        }
        url, bare_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        with (
            server(["bench.registry_lookup", "--serve", str(port), "--dsn", dsn], env, url),
            server(["bench._bare_lookup", dsn, str(bare_port)], env, bare_url),
        ):
            figures = asyncio.run(measure(dsn, url, bare_url, token, args.requests))
    out = write_result(f"registry_lookup_{scale(figures['individuals'])}", figures)
    http, bare, direct = figures["http"], figures["bare_fastapi_http"], figures["direct_asyncpg"]
    print(
        f"NIK lookup at {figures['individuals']} individuals: registry p50 {http['p50_ms']} ms, "
        f"p99 {http['p99_ms']} ms; bare FastAPI p50 {bare['p50_ms']} ms, p99 {bare['p99_ms']} "
        f"ms; raw asyncpg p50 {direct['p50_ms']} ms; ratio to bare p50 "
        f"{figures['p50_ratio']}×, p99 {figures['p99_ratio']}× → {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
