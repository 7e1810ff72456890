"""The dashboard in tests: events in and out, the running service, a local ASGI server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn

from services.dashboard.consumers import HANDLERS, READ_MODEL_GROUP
from services.dashboard.settings import DashboardSettings
from slrt.auth.principal import Role
from slrt.contracts.envelope import Envelope, EventData
from slrt.kafka import EventConsumer, EventProducer
from slrt_dev.issuer import DevIssuer
from slrt_dev.stack.process import free_port
from tests.dashboard.stories import district_stories, spread_stories
from tests.support.harness import dev_issuer, service_process

Publish = Callable[[list[tuple[str, EventData, str]]], Awaitable[list[Envelope]]]


async def publish(
    producer: EventProducer, topic: str, data: EventData, subject: str, id: str | None = None
) -> Envelope:
    envelope = Envelope.wrap(data, source="/slrt/routing", subject=subject, id=id)
    await (await producer.send(topic, envelope))
    return envelope


async def consume(
    settings: DashboardSettings,
    pool: asyncpg.Pool,
    producer: EventProducer,
    expect: int,
    timeout: float = 60.0,
) -> EventConsumer:
    """Run the read model's consumer until ``expect`` events were handled or skipped."""
    consumer = EventConsumer(
        settings.connections,
        group=READ_MODEL_GROUP,
        topics=[settings.lifecycle_topic, settings.catalog_topic],
        handlers=HANDLERS,
        pool=pool,
        dead_letters=producer,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while consumer.handled + consumer.duplicates_skipped + consumer.dead_lettered < expect:
            assert not task.done(), task.exception() if task.done() else "consumer stopped"
            assert asyncio.get_running_loop().time() < deadline, "events did not all arrive"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    return consumer


@dataclass
class RunningDashboard:
    url: str
    issuer: DevIssuer
    pool: asyncpg.Pool
    settings: DashboardSettings

    def token(self, area: str, *roles: Role) -> str:
        return self.issuer.token("user-1", list(roles or (Role.VIEWER,)), area)

    def headers(self, area: str, *roles: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(area, *roles)}"}


@asynccontextmanager
async def start_dashboard(
    settings: DashboardSettings,
    pool: asyncpg.Pool,
    producer: EventProducer,
    folder: Path,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[RunningDashboard]:
    """The dashboard service as its own process, its read model fed with the hand-counted
    district stories and the generated spread across three provinces."""
    stories = district_stories() + spread_stories()
    for story in stories:
        for event in story.events:
            subject = str(story.complaint_id)
            await publish(producer, settings.lifecycle_topic, event, subject)
    expected = sum(len(s.events) for s in stories)
    c = settings.connections
    env = {
        "SLRT_POSTGRES_DSN": c.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": c.kafka_bootstrap,
        "SLRT_DASHBOARD_LIFECYCLE_TOPIC": settings.lifecycle_topic,
        "SLRT_DASHBOARD_CATALOG_TOPIC": settings.catalog_topic,
        "SLRT_KAFKA_CONSUMER_GROUP_PREFIX": c.kafka_consumer_group_prefix,
        "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": "http://intake.test",
        "SLRT_LOG_JSON": "true",
        **(extra_env or {}),
    }
    with service_process("dashboard", env, folder) as url:
        deadline = asyncio.get_running_loop().time() + 60
        while await pool.fetchval("SELECT count(*) FROM transitions") < expected:
            assert asyncio.get_running_loop().time() < deadline, "read model did not catch up"
            await asyncio.sleep(0.2)
        yield RunningDashboard(url, dev_issuer(folder), pool, settings)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app over real HTTP in this event loop; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the test server did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
