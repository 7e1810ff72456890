"""Workflow fixtures: the real activities (Kafka, the routing schema) behind a worker on the dev
server or on the time-skipping server, each on a task queue of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.routing import store
from services.routing.activities import ComplaintActivities
from services.routing.settings import RoutingSettings
from slrt.contracts.events import ComplaintSubmitted
from slrt.contracts.topics import ALL_TOPICS
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from tests.support.complaints import Driven, terminate_unfinished, worker_queue
from tests.support.harness import RealStack
from tests.workflows.catalog import NATIONAL


@pytest.fixture(scope="session")
async def contract_topics(real_stack: RealStack) -> None:
    await real_stack.create_topics(*ALL_TOPICS, partitions=2)


@pytest.fixture
async def routing_pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate_service(fresh_db, "routing")
    pool = await create_pool(
        ConnectionSettings(postgres_dsn=fresh_db, postgres_pool_max=4), "routing"
    )
    async with pool.acquire() as conn:
        for entry in NATIONAL:
            await store.upsert_program(conn, entry)
    yield pool
    await pool.close()


@pytest.fixture
async def producer(kafka_bootstrap: str, contract_topics: None) -> AsyncIterator[EventProducer]:
    async with EventProducer(
        ConnectionSettings(kafka_bootstrap=kafka_bootstrap), source="/slrt/routing"
    ) as started:
        yield started


@pytest.fixture
def routing_settings() -> RoutingSettings:
    return RoutingSettings()


@pytest.fixture
def activities(
    producer: EventProducer, routing_pool: asyncpg.Pool, routing_settings: RoutingSettings
) -> ComplaintActivities:
    return ComplaintActivities(producer, routing_pool, routing_settings)


@pytest.fixture
async def dev_queue(temporal_client: Client, activities: ComplaintActivities) -> AsyncIterator[str]:
    """A worker on the real dev server; yields its task queue."""
    async for queue in worker_queue(temporal_client, activities):
        yield queue


@pytest.fixture
async def skipping_queue(
    time_skipping_env: WorkflowEnvironment, activities: ComplaintActivities
) -> AsyncIterator[str]:
    """A worker on the time-skipping server; yields its task queue."""
    async for queue in worker_queue(time_skipping_env.client, activities):
        yield queue


@pytest.fixture
async def drive(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> AsyncIterator[Callable[[ComplaintSubmitted], Awaitable[Driven]]]:
    """Start a complaint's workflow on the dev server's worker."""
    started: list[Driven] = []

    async def start(complaint: ComplaintSubmitted) -> Driven:
        driven = await Driven(temporal_client, dev_queue, kafka_bootstrap, complaint).start()
        started.append(driven)
        return driven

    yield start
    await terminate_unfinished(started)


@pytest.fixture
async def drive_skipping(
    time_skipping_env: WorkflowEnvironment, skipping_queue: str, kafka_bootstrap: str
) -> AsyncIterator[Callable[[ComplaintSubmitted], Awaitable[Driven]]]:
    """Start a complaint's workflow on the time-skipping server's worker."""
    started: list[Driven] = []

    async def start(complaint: ComplaintSubmitted) -> Driven:
        client = time_skipping_env.client
        driven = await Driven(client, skipping_queue, kafka_bootstrap, complaint).start()
        started.append(driven)
        return driven

    yield start
    await terminate_unfinished(started)
