"""The notifier on the real stack (Postgres, Kafka) with the stand-ins on loopback."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from services.notifier.runner import Notifier
from services.notifier.settings import NotifierSettings
from slrt.contracts.envelope import Envelope, EventData, from_kafka
from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry
from slrt.contracts.topics import Topic, dead_letter_topic
from slrt.contracts.vocabulary import Category, NotificationKind, ProgramChannel
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.standins import lapor, siks_ng, sms_gateway, webhook_receiver
from slrt_dev.standins.server import serving
from slrt_dev.standins.smtp_sink import SmtpSink
from tests.support.harness import RealStack

WEBHOOK_SECRET_REF = "pkh-direct"
ANSWER_LINK_KEY = "answer-link-test-key-that-is-long-enough-for-hs256"


def whsec() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass
class StandIns:
    receiver: webhook_receiver.ReceiverState
    receiver_url: str
    slow_receiver: webhook_receiver.ReceiverState
    slow_receiver_url: str
    lapor: lapor.LaporState
    lapor_url: str
    siks_ng: siks_ng.SiksNgState
    siks_ng_url: str
    sms: sms_gateway.GatewayState
    sms_url: str
    smtp: SmtpSink
    keys: list[str]


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


def program(
    code: str, channel: ProgramChannel, version: int = 1, **fields: Any
) -> ProgramCatalogEntry:
    return ProgramCatalogEntry(
        code=code,
        name=f"Program {code}",
        level="national",
        owner_agency="Kementerian Sosial",
        channel=channel,
        categories=[Category.IMPLEMENTATION],
        sla_working_days=10,
        version=version,
        **fields,
    )


def referral(destination: str, **fields: Any) -> NotificationRequested:
    values: dict[str, Any] = {
        "request_id": uuid.uuid4(),
        "complaint_id": uuid.uuid4(),
        "referral_id": uuid.uuid4(),
        "kind": NotificationKind.REFERRAL,
        "destination": destination,
        "template": "referral",
        "place_code": "3204052001",
        "params": {
            "ticket_number": "SLRT-3204-000123",
            "category": "implementation",
            "summary": "Bantuan PKH tahap 3 belum diterima; NIK 3204054101800002 terdaftar.",
            "nik": "3204054101800002",
            "registry": {"found": True, "welfare_decile": 2, "programs": ["PKH"]},
            "due_date": "2026-12-15",
        },
    }
    values.update(fields)
    return NotificationRequested(**values)


@dataclass
class RunningNotifier:
    settings: NotifierSettings
    pool: asyncpg.Pool
    producer: EventProducer
    notifier: Notifier
    requests_topic: str
    catalog_topic: str
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def send(
        self, topic: str, data: EventData, subject: str, event_id: str | None = None
    ) -> None:
        envelope = Envelope.wrap(data, source="/test", subject=subject, id=event_id)
        await (await self.producer.send(topic, envelope))

    async def request(self, request: NotificationRequested, event_id: str | None = None) -> None:
        subject = str(request.complaint_id or request.request_id)
        await self.send(self.requests_topic, request, subject, event_id)

    async def catalog(self, entry: ProgramCatalogEntry) -> None:
        await self.send(self.catalog_topic, entry, entry.code)

    async def until(
        self,
        query: str,
        *args: Any,
        check: Callable[[Any], bool] = bool,
        timeout: float = 60.0,
    ) -> Any:
        """Wait until ``query``'s value passes ``check`` (the notifier's state is the event)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.pool.fetchval(query, *args)
            if check(value):
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting; last value {value!r}")
            await asyncio.sleep(0.05)

    async def status(
        self, request: NotificationRequested, *wanted: str, timeout: float = 60.0
    ) -> str:
        value: str = await self.until(
            "SELECT status FROM deliveries WHERE request_id = $1",
            request.request_id,
            check=lambda v: v in wanted,
            timeout=timeout,
        )
        return value

    async def attempts(self, request: NotificationRequested) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.pool.fetch(
            "SELECT a.* FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
            "WHERE d.request_id = $1 ORDER BY a.round, a.number",
            request.request_id,
        )
        return rows


StartNotifier = Callable[..., Awaitable[RunningNotifier]]


@pytest.fixture
async def start_notifier(
    real_stack: RealStack, fresh_db: str, kafka_bootstrap: str, standins: StandIns
) -> AsyncIterator[StartNotifier]:
    running: list[RunningNotifier] = []
    await real_stack.create_topics(
        Topic.NOTIFICATION_OUTCOMES, Topic.REFERRAL_ANSWERS, partitions=2
    )

    async def start(**overrides: Any) -> RunningNotifier:
        connections = ConnectionSettings(
            postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap, postgres_pool_max=6
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
            "sms_gateway_url": standins.sms_url,
            "smtp_port": standins.smtp.port,
        }
        values.update(overrides)
        settings = NotifierSettings(**values)
        await migrate_service(fresh_db, "notifier")
        suffix = uuid.uuid4().hex[:8]
        requests_topic, catalog_topic = f"test.requests.{suffix}", f"test.catalog.{suffix}"
        await real_stack.create_topics(
            requests_topic,
            dead_letter_topic(requests_topic),
            catalog_topic,
            dead_letter_topic(catalog_topic),
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
            group_prefix=f"{suffix}.",
        )
        stop = asyncio.Event()
        handle = RunningNotifier(
            settings, pool, producer, notifier, requests_topic, catalog_topic, stop
        )
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


async def outcomes_for(
    bootstrap: str, request_id: uuid.UUID, *, expect: int, topic: str = Topic.NOTIFICATION_OUTCOMES
) -> list[tuple[bytes | None, Envelope]]:
    """The events on ``topic`` about ``request_id`` (waits for ``expect``, then one more second
    for any duplicate)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[tuple[bytes | None, Envelope]] = []
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + 60
        grace: float | None = None
        while loop.time() < deadline and (grace is None or loop.time() < grace):
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    envelope = from_kafka(record.key, record.headers, record.value)
                    if envelope.data.get("request_id") == str(request_id) or envelope.data.get(
                        "referral_id"
                    ) == str(request_id):
                        found.append((record.key, envelope))
            if len(found) >= expect and grace is None:
                grace = loop.time() + 1.0
    finally:
        await consumer.stop()
    return found
