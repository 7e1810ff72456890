"""The national read model at scale: the dashboard's pages over HTTP on generated facts.

    .venv/bin/python -m bench.dashboard_national [--complaints 1000000] [--runs 30]

A fresh database of the harness's PostgreSQL gets the dashboard's migrations and ``--complaints``
generated complaint facts over the real place codes (514 districts; ``bench/_dashboard_facts``:
COPY, then the rollups from scratch). The dashboard service runs as its own process (uvicorn,
its consumer on topics of its own) and a national viewer's token asks, one request at a time:

- the national page (``/dashboard``: every table, the charts' data, auth, suppression);
- a drill-down to a district (``/dashboard?area=DDDD``, districts drawn by their weight);
- the national page filtered on a period that cuts months (whole months from the rollups, the
  days at either end from the facts) and on a category;

against, in the same run: ``/healthz`` of the same process (the HTTP stack doing nothing), the
figures behind each page computed by calling ``figures.collect`` directly (the raw SQL, no
HTTP), and the national figures computed the way the page did before the rollups (live scans
of every complaint; fewer runs, it is slow). Goals (issue 17): national p95 < 1 s, district
p95 < 300 ms. Result: ``bench/results/dashboard_national.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench._dashboard_facts import load, today
from bench._stack import _database, percentile, write_result
from services.dashboard.figures import (
    Filters,
    agencies,
    by_place,
    collect,
    funnel,
    open_by_village,
    volumes,
)
from slrt.auth.principal import Role
from slrt.db import Connection, create_pool
from slrt.db.migrations import migrate_service
from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.infra import RealStack
from slrt_dev.sandbox.processes import dev_issuer, service_process

GOALS = {"national_p95_ms": 1000.0, "district_p95_ms": 300.0}


def _stats(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "runs": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


async def _timed(
    run: Callable[[int], Awaitable[Any]], runs: int, warm: bool = True
) -> dict[str, float]:
    if warm:
        await run(0)  # warm: connections, plans, caches
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        await run(i)
        samples.append(time.perf_counter() - started)
    return _stats(samples)


async def _before(conn: Connection, day: date) -> None:
    """The national figures as the page computed them before the rollups: scans of the facts."""
    filters = Filters(area="")
    await by_place(conn, filters, day, 2)
    await volumes(conn, filters)
    await funnel(conn, filters)
    await agencies(conn, filters)


async def measure(url: str, token: str, dsn: str, runs: int, seed: int) -> dict[str, Any]:
    day = today()
    pool = await create_pool(ConnectionSettings(postgres_dsn=dsn), "dashboard")
    try:
        weights = await pool.fetch(
            "SELECT left(place_code, 4) AS district, count(*) AS n FROM complaint_facts "
            "GROUP BY 1 ORDER BY 1"
        )
        rng = random.Random(seed)
        districts = rng.choices(
            [w["district"] for w in weights], [w["n"] for w in weights], k=runs + 1
        )
        headers = {"Authorization": f"Bearer {token}"}
        period = "start=2026-03-15&end=2026-08-20"
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:

            async def get(path: str) -> None:
                response = await client.get(path)
                assert response.status_code == 200, response.text[:300]

            result: dict[str, Any] = {
                "http_healthz": await _timed(lambda i: get("/healthz"), runs),
                "national_page": await _timed(lambda i: get("/dashboard"), runs),
                "district_page": await _timed(
                    lambda i: get(f"/dashboard?area={districts[i]}"), runs
                ),
                "national_page_period": await _timed(
                    lambda i: get(f"/dashboard?{period}"), max(5, runs // 6)
                ),
                "national_page_category": await _timed(
                    lambda i: get("/dashboard?category=membership"), max(5, runs // 6)
                ),
            }
        result["national_sql"] = await _timed(lambda i: collect(pool, Filters(area=""), day), runs)
        result["district_sql"] = await _timed(
            lambda i: collect(pool, Filters(area=districts[i]), day), runs
        )

        async def planning_open(i: int) -> None:
            async with pool.acquire() as conn:
                await open_by_village(conn, "")

        result["planning_open_by_village_national_sql"] = await _timed(planning_open, 5)

        async def before(i: int) -> None:
            async with pool.acquire() as conn:
                await _before(conn, day)

        result["national_facts_scan_before_rollups"] = await _timed(before, 1, warm=False)
        result["rows"] = dict(
            await pool.fetchrow(
                "SELECT (SELECT count(*) FROM complaint_facts) AS complaints, "
                "(SELECT count(*) FROM referral_facts) AS referrals, "
                "(SELECT count(*) FROM complaint_rollup) AS complaint_rollup, "
                "(SELECT count(*) FROM referral_rollup) AS referral_rollup, "
                "(SELECT count(DISTINCT left(place_code, 4)) FROM complaint_facts) AS districts"
            )
            or {}
        )
    finally:
        await pool.close()
    national, district = result["national_page"], result["district_page"]
    result["goals"] = GOALS
    result["national_p95_ms"] = national["p95_ms"]
    result["district_p95_ms"] = district["p95_ms"]
    result["national_page_to_sql_p50_ratio"] = round(
        national["p50_ms"] / result["national_sql"]["p50_ms"], 2
    )
    result["district_page_to_sql_p50_ratio"] = round(
        district["p50_ms"] / result["district_sql"]["p50_ms"], 2
    )
    result["national_speedup_over_facts_scan"] = round(
        result["national_facts_scan_before_rollups"]["p50_ms"] / result["national_sql"]["p50_ms"],
        1,
    )
    return result


async def prepare(dsn: str, complaints: int, seed: int, cache: Path) -> dict[str, float]:
    await migrate_service(dsn, "dashboard")
    pool = await create_pool(ConnectionSettings(postgres_dsn=dsn), "dashboard")
    try:
        async with pool.acquire() as conn:
            return await load(conn, complaints, seed, cache=cache)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_national")
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30, help="requests per measure")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(".slrt/bench/dashboard"),
        help="where the generated facts are kept as CSV (made once per size and seed)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="slrt-bench-") as work:
        stack = RealStack(Path(work))
        try:
            dsn = asyncio.run(_database(stack.postgres_dsn))
            suffix = uuid.uuid4().hex[:8]
            lifecycle, catalog = f"bench.lifecycle.{suffix}", f"bench.catalog.{suffix}"
            asyncio.run(
                stack.create_topics(lifecycle, catalog, f"{lifecycle}.dlq", f"{catalog}.dlq")
            )
            load_seconds = prepare_and_report(dsn, args.complaints, args.seed, args.work.resolve())
            env = {
                "SLRT_POSTGRES_DSN": dsn,
                "SLRT_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
                "SLRT_DASHBOARD_LIFECYCLE_TOPIC": lifecycle,
                "SLRT_DASHBOARD_CATALOG_TOPIC": catalog,
                "SLRT_KAFKA_CONSUMER_GROUP_PREFIX": f"{suffix}.",
                "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": "http://intake.bench",
                "SLRT_LOG_LEVEL": "WARNING",
            }
            logs = Path(work) / "logs"
            logs.mkdir()
            token = dev_issuer(logs).token("bench-viewer", [Role.VIEWER], "")
            with service_process("dashboard", env, logs) as url:
                result = asyncio.run(measure(url, token, dsn, args.runs, args.seed))
        finally:
            stack.close()
    result = {"complaints": args.complaints, "load_seconds": load_seconds, **result}
    out = write_result("dashboard_national", result)
    n, d = result["national_page"], result["district_page"]
    print(
        f"national page p50 {n['p50_ms']} ms, p95 {n['p95_ms']} ms (goal < 1000); district "
        f"p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms (goal < 300); national SQL p50 "
        f"{result['national_sql']['p50_ms']} ms; before the rollups "
        f"{result['national_facts_scan_before_rollups']['p50_ms']} ms → {out}"
    )
    return 0


def prepare_and_report(dsn: str, complaints: int, seed: int, cache: Path) -> dict[str, float]:
    print(f"loading {complaints} generated complaints (files in {cache}) …", flush=True)
    seconds = asyncio.run(prepare(dsn, complaints, seed, cache))
    print(f"loaded: {seconds} s", flush=True)
    return seconds


if __name__ == "__main__":
    raise SystemExit(main())
