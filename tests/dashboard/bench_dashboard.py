"""Benchmark (not part of the suite; run it by name):

    .venv/bin/pytest tests/dashboard/bench_dashboard.py -q -s

A district (Kabupaten Bandung, 280 villages) of 1,000,000 individuals in 250,000 households
in the registry's tables and 100,000 complaints in the dashboard's read model, bulk-loaded with
SQL (the Kafka path is what the other tests cover). It measures, as medians of repeated runs:

- the dashboard page of the district over HTTP (the service as its own process), against the
  single SQL aggregate behind its headline figures;
- the registry's aggregates of the district over HTTP, against the single SQL aggregate on the
  base tables that the materialised views replace.

Figures go to stdout and to ``.slrt/test-artifacts/dashboard/benchmark.json``. Nothing here
asserts a time: the numbers depend on the machine.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.dashboard.figures import Filters, summary
from services.dashboard.settings import DashboardSettings
from services.registry.api import aggregates
from slrt.db import create_pool
from slrt.kafka import EventProducer
from slrt.places import directory
from slrt.settings import ConnectionSettings
from tests.dashboard.test_browser import ARTIFACTS
from tests.support.dashboard import serve, start_dashboard
from tests.support.harness import dev_issuer
from tests.support.registry import migrate_registry, registry_app

DISTRICT = "3204"
INDIVIDUALS = 1_000_000
PER_HOUSEHOLD = 4
COMPLAINTS = 100_000
RUNS = 15

REGISTRY_SQL = """
INSERT INTO places (code, name, parent_code, level)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]);
INSERT INTO programs (code, name, level, owner_agency, channel, categories, sla_working_days,
                      version, updated_by)
SELECT c, c, 'national', 'Kemensos', 'direct', '{implementation}', 10, 1, 'bench'
FROM unnest(ARRAY['PKH', 'BPNT', 'PIP', 'KIS']) AS c;
"""

HOUSEHOLDS_SQL = """
INSERT INTO households (id, registry_ref, village_code, welfare_decile)
SELECT md5('h' || i)::uuid, 'B' || i, ($1::text[])[1 + i % array_length($1::text[], 1)],
       1 + (i * 7) % 10
FROM generate_series(1, $2::int) AS i;
"""

FAMILIES_SQL = """
INSERT INTO families (kk_number, household_id)
SELECT lpad(i::text, 16, '0'), md5('h' || i)::uuid FROM generate_series(1, $1::int) AS i
"""

INDIVIDUALS_SQL = """
INSERT INTO individuals (id, nik, household_id, kk_number, name, name_key, sex, birth_date,
                         relation, disability, village_code)
SELECT md5('p' || i)::uuid, lpad(i::text, 16, '0'), md5('h' || h)::uuid,
       lpad(h::text, 16, '0'), 'Warga', 'warga',
       CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, date '1980-01-01' + (i % 20000),
       'member', CASE WHEN i % 37 = 0 THEN 'physical' END,
       ($1::text[])[1 + h % array_length($1::text[], 1)]
FROM generate_series(1, $2::int) AS i, LATERAL (SELECT ($3::int + i - 1) / $4::int AS h) AS x;
"""

PARTICIPATION_SQL = """
INSERT INTO participation (household_id, program_code, period)
SELECT md5('h' || i)::uuid, p, '2026-11'
FROM generate_series(1, $1::int) AS i,
     unnest(ARRAY['PKH', 'BPNT', 'KIS']) WITH ORDINALITY AS q(p, n)
WHERE (i * 7) % 10 < 4 + n AND (i + n) % 3 <> 0;
INSERT INTO program_needs (id, household_id, need, program_code, recorded_by)
SELECT md5('n' || i)::uuid, md5('h' || i)::uuid,
       (ARRAY['school_assistance', 'health_insurance', 'elderly_care'])[1 + i % 3],
       (ARRAY['PIP', 'KIS', NULL])[1 + i % 3], 'bench'
FROM generate_series(1, $1::int, 10) AS i;
"""

COMPLAINTS_SQL = """
INSERT INTO complaint_facts (complaint_id, ticket_number, place_code, category, channel,
    program_code, step, open, outcome, received_at, acknowledged_at, acknowledge_due,
    resolved_at, resolve_due, closed_at, steps_reached, escalation_count, repeat, reopened,
    household_response, last_sequence)
SELECT md5('c' || i)::uuid, '3204-26-' || lpad(i::text, 6, '0'),
       ($1::text[])[1 + i % array_length($1::text[], 1)],
       (ARRAY['membership', 'implementation', 'program_need', 'information'])[1 + i % 4],
       (ARRAY['puskesos_walk_in', 'district_walk_in', 'facilitator_visit'])[1 + i % 3],
       (ARRAY['PKH', 'BPNT', 'PIP', NULL])[1 + i % 4],
       CASE WHEN i % 3 = 0 THEN 'back_office' ELSE 'closed' END, i % 3 = 0,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'resolved_locally' END,
       t, t + interval '1 day' * (i % 5), (t + interval '3 days')::date,
       CASE WHEN i % 3 <> 0 THEN t + interval '1 day' * (i % 20) END,
       (t + interval '14 days')::date,
       CASE WHEN i % 3 <> 0 THEN t + interval '1 day' * (i % 20 + 2) END,
       ARRAY['received', 'registered', 'registry_check', 'back_office'], i % 11 / 10,
       i % 17 = 0, i % 29 = 0,
       CASE WHEN i % 3 = 1 THEN 'satisfied' WHEN i % 3 = 2 THEN 'not_satisfied' END, 6
FROM generate_series(1, $2::int) AS i,
     LATERAL (SELECT timestamptz '2026-01-01 02:00+00' + interval '1 hour' * (i % 7000)) AS x(t);
INSERT INTO referral_facts (referral_id, complaint_id, place_code, category, program_code,
    destination, received_at, sent_at, answered_at, decision, expired)
SELECT md5('r' || complaint_id)::uuid, complaint_id, place_code, category, program_code,
       program_code, received_at, received_at + interval '2 days',
       CASE WHEN ticket_number LIKE '%1' THEN NULL ELSE received_at + interval '6 days' END,
       CASE WHEN ticket_number LIKE '%1' THEN NULL ELSE 'accepted' END,
       ticket_number LIKE '%1'
FROM complaint_facts WHERE program_code IS NOT NULL AND complaint_id::text < '4';
"""

BASE_TABLE_AGGREGATE = """
SELECT count(*) AS households,
       count(*) FILTER (WHERE h.welfare_decile <= 4) AS bottom40,
       count(*) FILTER (WHERE h.welfare_decile <= 4 AND NOT EXISTS (
           SELECT 1 FROM participation p WHERE p.household_id = h.id)) AS bottom40_no_program
FROM households h WHERE h.village_code LIKE $1
"""


async def _median_ms(run: Callable[[], Awaitable[Any]]) -> float:
    await run()  # warm caches and connections
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


async def _load_registry(dsn: str) -> asyncpg.Pool:
    await migrate_registry(dsn)
    pool = await create_pool(ConnectionSettings(postgres_dsn=dsn), "registry")
    places = [p for p in directory() if p.code in ("32", DISTRICT) or p.code.startswith(DISTRICT)]
    places.sort(key=lambda p: len(p.code))
    villages = [p.code for p in places if len(p.code) == 10]
    households = INDIVIDUALS // PER_HOUSEHOLD
    async with pool.acquire() as conn:
        await conn.execute(
            REGISTRY_SQL.split(";")[0],
            [p.code for p in places],
            [p.name for p in places],
            [p.parent_code for p in places],
            [
                {2: "province", 4: "regency", 6: "sub_district", 10: "village"}[len(p.code)]
                for p in places
            ],
        )
        await conn.execute(REGISTRY_SQL.split(";")[1])
        await conn.execute(HOUSEHOLDS_SQL, villages, households)
        await conn.execute(FAMILIES_SQL, households)
        await conn.execute(INDIVIDUALS_SQL, villages, INDIVIDUALS, PER_HOUSEHOLD, PER_HOUSEHOLD)
        for statement in PARTICIPATION_SQL.strip().split(";")[:2]:
            await conn.execute(statement, households)
        await conn.execute("ANALYZE")
    return pool


async def _measure(
    dashboard_url: str,
    registry_url: str,
    headers: dict[str, str],
    dashboard_pool: asyncpg.Pool,
    registry_pool: asyncpg.Pool,
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:

        async def get(url: str) -> None:
            response = await client.get(url, headers=headers)
            assert response.status_code == 200, response.text[:500]

        async def complaint_sql() -> None:
            async with dashboard_pool.acquire() as conn:
                await summary(conn, Filters(area=DISTRICT), date(2026, 12, 1))

        async def registry_mv_sql() -> None:
            async with registry_pool.acquire() as conn:
                await aggregates.overview(conn, DISTRICT)

        async def registry_base_sql() -> None:
            await registry_pool.fetchrow(BASE_TABLE_AGGREGATE, DISTRICT + "%")

        return {
            "dashboard_page_ms": await _median_ms(
                lambda: get(f"{dashboard_url}/dashboard?area={DISTRICT}")
            ),
            "complaint_summary_sql_ms": await _median_ms(complaint_sql),
            "registry_aggregates_http_ms": await _median_ms(
                lambda: get(f"{registry_url}/v1/aggregates?area={DISTRICT}")
            ),
            "registry_all_mv_queries_ms": await _median_ms(registry_mv_sql),
            "registry_base_table_sql_ms": await _median_ms(registry_base_sql),
            "planning_page_ms": await _median_ms(
                lambda: get(f"{dashboard_url}/planning?area={DISTRICT}")
            ),
        }


@pytest.mark.timeout(3600)
async def test_benchmark_district_of_a_million(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    fresh_db: str,
    tmp_path: Path,
) -> None:
    started = time.perf_counter()
    registry_pool = await _load_registry(fresh_db)
    refresh_start = time.perf_counter()
    await aggregates.refresh(registry_pool)
    refresh_s = time.perf_counter() - refresh_start
    loaded_s = time.perf_counter() - started
    villages = [p.code for p in directory() if p.code.startswith(DISTRICT) and len(p.code) == 10]
    async with dashboard_pool.acquire() as conn:
        for statement in COMPLAINTS_SQL.strip().split(";")[:2]:
            args = (villages, COMPLAINTS) if "generate_series" in statement else ()
            await conn.execute(statement, *args)
        await conn.execute("ANALYZE")
    counts = await registry_pool.fetchrow(
        "SELECT (SELECT count(*) FROM individuals) AS individuals, "
        "(SELECT count(*) FROM households) AS households"
    )
    assert counts is not None
    assert counts["individuals"] == INDIVIDUALS
    assert await dashboard_pool.fetchval("SELECT count(*) FROM complaint_facts") >= COMPLAINTS

    # The registry's aggregates over real HTTP.
    try:
        async with (
            serve(registry_app(registry_pool, dev_issuer(tmp_path))) as registry_url,
            start_dashboard(
                dashboard_settings,
                dashboard_pool,
                producer,
                tmp_path,
                {"SLRT_DASHBOARD_REGISTRY_URL": registry_url},
            ) as running,
        ):
            results = await _measure(
                running.url, registry_url, running.headers(DISTRICT), dashboard_pool, registry_pool
            )
    finally:
        await registry_pool.close()
    results.update(
        individuals=INDIVIDUALS,
        households=counts["households"],
        complaints=COMPLAINTS,
        load_seconds=round(loaded_s, 1),
        refresh_seconds=round(refresh_s, 1),
    )
    results["dashboard_to_sql_ratio"] = round(
        results["dashboard_page_ms"] / results["complaint_summary_sql_ms"], 2
    )
    results["registry_http_to_base_sql_ratio"] = round(
        results["registry_aggregates_http_ms"] / results["registry_base_table_sql_ms"], 3
    )
    print(json.dumps(results, indent=2))
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(
        (ARTIFACTS / "benchmark.json").write_text, json.dumps(results, indent=2)
    )
