"""The notifier on the real stack (Postgres, Kafka) with the stand-ins on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import pytest

from services.notifier.runner import Notifier
from services.notifier.settings import NotifierSettings
from slrt.contracts.topics import Topic, dead_letter_topic
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.standins import lapor, siks_ng, sms_gateway, webhook_receiver
from slrt_dev.standins.server import serving
from slrt_dev.standins.smtp_sink import SmtpSink
from tests.support.harness import RealStack
from tests.support.notifier import ANSWER_LINK_KEY, RunningNotifier, StandIns, StartNotifier, whsec


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the notifier's schema (migrated) in a database of this test's own."""
    await migrate_service(fresh_db, "notifier")
    pool = await create_pool(ConnectionSettings(postgres_dsn=fresh_db), "notifier")
    yield pool
    await pool.close()


@pytest.fixture
async def standins(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StandIns]:
    keys = [whsec(), whsec()]  # rotation: the newest first
    monkeypatch.setenv("SLRT_SECRET_PKH_DIRECT", " ".join(keys))
    monkeypatch.setenv("SLRT_SECRET_SLOW_DIRECT", keys[0])
    monkeypatch.setenv("SLRT_SECRET_ANSWER_LINKS", ANSWER_LINK_KEY)
    monkeypatch.setenv("SLRT_SECRETS_DIR", "/nonexistent")
    receiver = webhook_receiver.ReceiverState([keys[1]])  # knows only the older key
    slow = webhook_receiver.ReceiverState([keys[0]])
    lapor_state, siks_state = lapor.LaporState(), siks_ng.SiksNgState()
    sms_state = sms_gateway.GatewayState(max_length=160)
    smtp = SmtpSink()
    smtp.start()
    async with AsyncExitStack() as stack:
        urls = [
            await stack.enter_async_context(serving(app))
            for app in (
                webhook_receiver.create_app(receiver),
                webhook_receiver.create_app(slow),
                lapor.create_app(lapor_state),
                siks_ng.create_app(siks_state),
                sms_gateway.create_app(sms_state),
            )
        ]
        try:
            yield StandIns(
                receiver,
                urls[0],
                slow,
                urls[1],
                lapor_state,
                urls[2],
                siks_state,
                urls[3],
                sms_state,
                urls[4],
                smtp,
                keys,
            )
        finally:
            smtp.stop()


@pytest.fixture
async def start_notifier(
    real_stack: RealStack, fresh_db: str, kafka_bootstrap: str, standins: StandIns
) -> AsyncIterator[StartNotifier]:
    running: list[RunningNotifier] = []
    await real_stack.create_topics(
        Topic.NOTIFICATION_OUTCOMES, Topic.REFERRAL_ANSWERS, partitions=2
    )

    async def start(**overrides: Any) -> RunningNotifier:
        suffix = uuid.uuid4().hex[:8]
        connections = ConnectionSettings(
            postgres_dsn=fresh_db,
            kafka_bootstrap=kafka_bootstrap,
            postgres_pool_max=6,
            kafka_consumer_group_prefix=f"{suffix}.",
        )
        values: dict[str, Any] = {
            "connections": connections,
            "intake_public_url": "http://intake.test",
            "retry_schedule_seconds": [0.2, 0.4],
            "retry_jitter": 0.0,
            "attempt_timeout_seconds": 5.0,
            "dispatch_poll_seconds": 0.05,
            "lapor_url": standins.lapor_url,
            "lapor_poll_seconds": 0.2,
            "siks_ng_url": standins.siks_ng_url,
            "siks_ng_poll_seconds": 0.2,
            "sms_gateway_url": standins.sms_url,
            "smtp_port": standins.smtp.port,
        }
        values.update(overrides)
        settings = NotifierSettings(**values)
        await migrate_service(fresh_db, "notifier")
        requests_topic, catalog_topic = f"test.requests.{suffix}", f"test.catalog.{suffix}"
        lifecycle_topic = f"test.lifecycle.{suffix}"
        staff_topic = f"test.staff.{suffix}"
        await real_stack.create_topics(
            staff_topic,
            dead_letter_topic(staff_topic),
            requests_topic,
            dead_letter_topic(requests_topic),
            catalog_topic,
            dead_letter_topic(catalog_topic),
            lifecycle_topic,
            dead_letter_topic(lifecycle_topic),
            partitions=2,
        )
        pool = await create_pool(connections, "notifier")
        producer = EventProducer(connections, "/slrt/notifier")
        await producer.start()
        notifier = Notifier(
            settings,
            pool,
            producer,
            requests_topic=requests_topic,
            catalog_topic=catalog_topic,
            lifecycle_topic=lifecycle_topic,
            staff_topic=staff_topic,
        )
        stop = asyncio.Event()
        handle = RunningNotifier(
            settings, pool, producer, notifier, requests_topic, catalog_topic, stop
        )
        handle.lifecycle_topic = lifecycle_topic
        handle.staff_topic = staff_topic
        handle.tasks = [
            asyncio.create_task(loop, name=name) for name, loop in notifier.loops(stop).items()
        ]
        running.append(handle)
        return handle

    yield start
    died: list[BaseException] = []
    for handle in running:
        handle.stop.set()
        results = await asyncio.gather(*handle.tasks, return_exceptions=True)
        died += [r for r in results if isinstance(r, BaseException)]
        await handle.producer.stop()
        await handle.pool.close()
    assert not died, f"background loops died: {died!r}"
