"""Benchmark (not a test): NIK lookup latency over HTTP, p50/p99, as a ratio to a direct
asyncpg query on the NIK key, on the database the import benchmark filled (1M individuals).

    .venv/bin/python -m bench.registry_lookup [--requests 3000] [--work DIR] [--dsn DSN]

The HTTP side is the registry's real lookup route (token verification, authorisation, the
person and programs queries, the audit row) served by uvicorn in its own process. Prints the
figures and writes ``bench/results/registry_lookup.json``. Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._registry import database_dsn, postgres, scale, write_result
from bench.registry_import import DATABASE
from slrt.auth.principal import Role
from slrt_dev.issuer import DevIssuer
from slrt_dev.stack.process import free_port

ISSUER = "https://auth.slrt.bench/registry"


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
        "mean_ms": round(statistics.fmean(ms), 3),
    }


async def measure(dsn: str, url: str, token: str, requests: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
    try:
        individuals = await conn.fetchval("SELECT count(*) FROM individuals")
        niks = [
            r["nik"]
            for r in await conn.fetch(
                "SELECT nik FROM individuals TABLESAMPLE SYSTEM (1) LIMIT $1", requests
            )
        ]
        query = await conn.prepare(
            "SELECT i.*, h.welfare_decile FROM individuals i "
            "JOIN households h ON h.id = i.household_id WHERE i.nik = $1"
        )
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
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        for nik in niks[:200]:
            await client.post("/v1/persons/lookup", json={"nik": nik})
        http: list[float] = []
        for nik in niks:
            started = time.perf_counter()
            response = await client.post("/v1/persons/lookup", json={"nik": nik})
            http.append(time.perf_counter() - started)
            response.raise_for_status()
    over_http, over_asyncpg = summary(http), summary(direct)
    return {
        "individuals": individuals,
        "requests": len(niks),
        "http": over_http,
        "direct_asyncpg": over_asyncpg,
        "p50_ratio": round(over_http["p50_ms"] / over_asyncpg["p50_ms"], 1),
        "p99_ratio": round(over_http["p99_ms"] / over_asyncpg["p99_ms"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--work", type=Path, default=Path(".slrt/bench/registry"))
    parser.add_argument("--dsn", help="an existing server (database slrt); default: start one")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.dsn, args.serve)
        return
    issuer = DevIssuer(args.work / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    token = issuer.token("bench-front-office", [Role.FRONT_OFFICE], "3204")
    with postgres(args.work / "pg", args.dsn) as server_dsn:
        dsn = database_dsn(server_dsn, DATABASE)
        port = free_port()
        env = {
            **os.environ,
            "SLRT_AUTH_ISSUER": ISSUER,
            "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
            "SLRT_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.registry_lookup", "--serve", str(port), "--dsn", dsn],
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            figures = asyncio.run(measure(dsn, url, token, args.requests))
        finally:
            server.terminate()
            server.wait(30)
    out = write_result(f"registry_lookup_{scale(figures['individuals'])}", figures)
    http, direct = figures["http"], figures["direct_asyncpg"]
    print(
        f"NIK lookup at {figures['individuals']} individuals: HTTP p50 {http['p50_ms']} ms, "
        f"p99 {http['p99_ms']} ms; asyncpg p50 {direct['p50_ms']} ms, p99 "
        f"{direct['p99_ms']} ms; ratio p50 {figures['p50_ratio']}×, p99 "
        f"{figures['p99_ratio']}× → {out}"
    )


if __name__ == "__main__":
    main()
