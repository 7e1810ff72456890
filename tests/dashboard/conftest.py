"""Fixtures of the dashboard tests: a migrated dashboard schema on a fresh database, topics of
the test's own, and a way to feed stories through the real broker into the read model."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.dashboard.settings import DashboardSettings
from services.registry.api import aggregates
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from tests.dashboard import registry_district as district
from tests.support.dashboard import RunningDashboard, serve, start_dashboard
from tests.support.harness import RealStack, dev_issuer
from tests.support.registry import migrate_registry, registry_app


@pytest.fixture
async def dashboard_settings(
    real_stack: RealStack, fresh_db: str, kafka_bootstrap: str
) -> DashboardSettings:
    suffix = uuid.uuid4().hex[:10]
    lifecycle, catalog = f"test.lifecycle.{suffix}", f"test.catalog.{suffix}"
    await real_stack.create_topics(lifecycle, catalog, f"{lifecycle}.dlq", f"{catalog}.dlq")
    return DashboardSettings(
        connections=ConnectionSettings(
            postgres_dsn=fresh_db,
            kafka_bootstrap=kafka_bootstrap,
            kafka_consumer_group_prefix=f"{suffix}.",
        ),
        lifecycle_topic=lifecycle,
        catalog_topic=catalog,
    )


@pytest.fixture
async def dashboard_pool(dashboard_settings: DashboardSettings) -> AsyncIterator[asyncpg.Pool]:
    dsn = dashboard_settings.connections.postgres_dsn.get_secret_value()
    await migrate_service(dsn, "dashboard")
    pool = await create_pool(dashboard_settings.connections, "dashboard")
    yield pool
    await pool.close()


@pytest.fixture
async def producer(dashboard_settings: DashboardSettings) -> AsyncIterator[EventProducer]:
    async with EventProducer(dashboard_settings.connections, source="/test") as p:
        yield p


@pytest.fixture
async def running_dashboard(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    tmp_path: Path,
) -> AsyncIterator[RunningDashboard]:
    async with start_dashboard(dashboard_settings, dashboard_pool, producer, tmp_path) as running:
        yield running


@pytest.fixture
async def registry_url(fresh_db: str, tmp_path: Path) -> AsyncIterator[str]:
    """The registry's aggregates router over real HTTP, on the registry schema of the same
    database, trusting the same development issuer as the dashboard process."""
    await migrate_registry(fresh_db)
    pool = await create_pool(ConnectionSettings(postgres_dsn=fresh_db), "registry")
    async with pool.acquire() as conn, conn.transaction():
        await district.load(conn)
    await aggregates.refresh(pool)
    async with serve(registry_app(pool, dev_issuer(tmp_path))) as url:
        yield url
    await pool.close()
